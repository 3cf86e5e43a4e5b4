"""Forms of the places and categories pages; Flask-WTF adds a CSRF token to every one."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from app.admin.forms import TOO_LONG
from app.admin.taxonomy import taxonomy_name
from app.core.forms import Form
from app.core.validators import strip
from models.brand import TAXONOMY, TOUCHPOINT_KINDS
from models.common import LABEL_MAX, SLUG_MAX

KIND_NAMES = {"room": _l("Room"), "table": _l("Table"), "kiosk": _l("Kiosk"),
              "web": _l("Website"), "link": _l("Link")}
DEFAULT_SURVEY = ""


class TouchpointForm(Form):
    label = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(message=_l("Please give the place a name, e.g. Room 412.")),
        Length(max=LABEL_MAX, message=TOO_LONG)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_NAMES[k])
                                           for k in TOUCHPOINT_KINDS],
                       invalid_choice_message=_l("Please choose what kind of place it is."))
    slug = StringField(_l("Address"), filters=[strip], validators=[
        Optional(), Length(max=SLUG_MAX, message=TOO_LONG)])
    survey = SelectField(_l("Survey"), invalid_choice_message=_l(
        "Please choose one of your surveys."))

    def __init__(self, surveys, default_name=None, **kwargs):
        """`surveys`: the brand's surveys; `default_name`: its default survey's name."""
        super().__init__(**kwargs)
        default = (_("The brand's default survey (%(name)s)", name=default_name)
                   if default_name else _l("The brand's default survey"))
        self.survey.choices = [SelectChoice(DEFAULT_SURVEY, default)] + [
            SelectChoice(str(s.id), s.name if s.active else _("%(name)s (off)", name=s.name))
            for s in surveys]

    def survey_id(self):
        """Return the chosen survey's id, or None for the brand's default survey."""
        return int(self.survey.data) if self.survey.data else None


class CategoryForm(Form):
    label_en = StringField(_l("Name in English"), filters=[strip], validators=[
        Optional(), Length(max=LABEL_MAX, message=TOO_LONG)])
    label_tr = StringField(_l("Name in Turkish"), filters=[strip], validators=[
        Optional(), Length(max=LABEL_MAX, message=TOO_LONG)])
    taxonomy = SelectField(_l("Stands for"), invalid_choice_message=_l(
        "Please choose which kind of message it stands for."))

    def __init__(self, language, **kwargs):
        super().__init__(**kwargs)
        self.taxonomy.choices = [SelectChoice(slug, taxonomy_name(slug, language))
                                 for slug in TAXONOMY]

    def labels(self):
        return {"en": self.label_en.data, "tr": self.label_tr.data}


class MoveForm(Form):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])
