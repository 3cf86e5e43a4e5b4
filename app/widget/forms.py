"""Customer forms: survey, "how can we help", and the message box. No CSRF: no cookies here."""
import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.core.forms import Form
from models.common import ANSWER_TEXT_MAX, CONTACT_MAX, MESSAGE_MAX, NAME_MAX

CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{6,25}$")


def strip(value):
    """Trim the text and store line breaks as \\n: browsers send CRLF but count one character."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _options(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


def _choice(label, choices):
    return RadioField(label, choices=_options(choices), validators=[Optional()],
                      invalid_choice_message=_l("Please choose one of the options."))


class CustomerForm(Form):
    """A form that needs no session: customers carry a capability URL, never a cookie."""

    class Meta:
        csrf = False

    lang = HiddenField()
    client_id = HiddenField(validators=[Optional(), Regexp(CLIENT_ID_PATTERN)])


class MessageForm(CustomerForm):
    body = TextAreaField(
        _l("Your message"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please write a message before sending.")),
            Length(max=MESSAGE_MAX, message=_l(
                "Your message is %(length)d characters long; the limit is %(max)d. "
                "Please shorten it or send it in two parts.")),
        ])


def email_or_phone(form, field):
    if field.data and not (EMAIL.match(field.data) or PHONE.match(field.data)):
        raise ValidationError(_l("Please enter an email address or a phone number."))


class HelpForm(MessageForm):
    category = _choice(_l("What is it about?"), [])
    name = StringField(_l("Your name"), filters=[strip], validators=[
        Optional(), Length(max=NAME_MAX, message=_l("Please use at most %(max)d characters."))])
    contact = StringField(_l("Email or phone, so we can reach you later"), filters=[strip],
                          validators=[Optional(), Length(max=CONTACT_MAX, message=_l(
                              "Please use at most %(max)d characters.")), email_or_phone])
    # A signed reference to the survey answers given on the previous step.
    r = HiddenField()

    def __init__(self, categories, language, **kwargs):
        super().__init__(**kwargs)
        self.category.choices = _options((c.slug, c.label(language)) for c in categories)


def _field_for(question, language):
    label = question.text(language)
    if question.kind == "rating":
        return _choice(label, [(str(n), str(n)) for n in range(1, 6)])
    if question.kind == "nps":
        return _choice(label, [(str(n), str(n)) for n in range(0, 11)])
    if question.kind == "yes_no":
        return _choice(label, [("yes", _l("Yes")), ("no", _l("No"))])
    if question.kind == "choice":
        return _choice(label, question.choice_options(language))
    return StringField(label, filters=[strip], validators=[
        Optional(), Length(max=ANSWER_TEXT_MAX,
                           message=_l("Please use at most %(max)d characters."))])


def survey_form(questions, language, **kwargs):
    """Build a form with one optional field per question (every question can be skipped)."""
    form_class = type("SurveyForm", (CustomerForm,), {
        q.field_name: _field_for(q, language) for q in questions})
    return form_class(**kwargs)
