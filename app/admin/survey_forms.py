"""Survey builder forms: they parse what was typed; app.admin.survey_builder judges it."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.core.forms import Form
from app.core.validators import strip

KIND_LABELS = {
    "rating": _l("Rating from 1 to 5"),
    "yes_no": _l("Yes or no"),
    "choice": _l("Single choice"),
    "nps": _l("Would you recommend us? (NPS, 0 to 10)"),
    "text": _l("Short text"),
}


class BuilderForm(Form):
    """A form that can show a refusal of the survey builder beside the field it concerns."""

    def refuse(self, error):
        field = self._fields.get(error.field) if error.field else None
        if field is None or field.name == "csrf_token":
            self.form_errors.append(error.message)
        else:
            field.errors = [*field.errors, error.message]


class SurveyNameForm(BuilderForm):
    name = StringField(_l("Name (only staff see it)"), filters=[strip])


class QuestionForm(BuilderForm):
    # Checked by the builder, not here, so that the API and this form refuse alike.
    kind = SelectField(_l("Kind of question"), validate_choice=False,
                       choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    prompt_en = StringField(_l("Question in English"), filters=[strip])
    prompt_tr = StringField(_l("Question in Turkish"), filters=[strip])
    choices = TextAreaField(_l("Choices, one per line: English label | Türkçe label"),
                            filters=[strip])
    required = BooleanField(_l("Customers must answer it (unless they skip all questions)"))

    def prompt(self):
        return {"en": self.prompt_en.data, "tr": self.prompt_tr.data}

    def choice_labels(self):
        """Return [{"en", "tr"}] from lines such as "Breakfast | Kahvaltı"."""
        labels = []
        for line in (self.choices.data or "").splitlines():
            if line.strip():
                english, _bar, turkish = line.partition("|")
                labels.append({"en": english.strip(), "tr": turkish.strip()})
        return labels

    @classmethod
    def of(cls, question):
        """Return the form filled in with a stored question, to edit it."""
        return cls(formdata=None, data={
            "kind": question.kind, "prompt_en": question.prompt.get("en", ""),
            "prompt_tr": question.prompt.get("tr", ""), "required": question.required,
            "choices": "\n".join(_line(c.get("labels") or {}) for c in question.choices or [])})


def _line(labels):
    english, turkish = labels.get("en", ""), labels.get("tr", "")
    return f"{english} | {turkish}" if turkish else english
