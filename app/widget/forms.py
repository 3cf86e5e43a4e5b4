"""Customer forms: survey, "how can we help", and the message box. No CSRF: no cookies here."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.core.forms import Form
from app.core.validators import CLIENT_ID_PATTERN, email_or_phone, strip
from models.common import ANSWER_TEXT_MAX, CONTACT_MAX, MESSAGE_MAX, NAME_MAX


def _options(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


def _choice(label, choices, required=False):
    return RadioField(label, choices=_options(choices), validators=[_presence(required)],
                      invalid_choice_message=_l("Please choose one of the options."))


def _presence(required):
    if required:
        return InputRequired(message=_l("Please answer this question, or skip the questions."))
    return Optional()


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
    label, required = question.text(language), question.required
    if question.kind == "rating":
        return _choice(label, [(str(n), str(n)) for n in range(1, 6)], required)
    if question.kind == "nps":
        return _choice(label, [(str(n), str(n)) for n in range(0, 11)], required)
    if question.kind == "yes_no":
        return _choice(label, [("yes", _l("Yes")), ("no", _l("No"))], required)
    if question.kind == "choice":
        return _choice(label, question.choice_options(language), required)
    return StringField(label, filters=[strip], validators=[
        _presence(required), Length(max=ANSWER_TEXT_MAX,
                                    message=_l("Please use at most %(max)d characters."))])


def survey_form(questions, language, **kwargs):
    """Build a form with one field per question; only required ones must be answered (the
    whole survey can still be skipped by its link)."""
    form_class = type("SurveyForm", (CustomerForm,), {
        q.field_name: _field_for(q, language) for q in questions})
    return form_class(**kwargs)


def survey_answers(form, questions):
    """Return {question id: raw value} of the questions answered on `form`."""
    return {q.id: form[q.field_name].data for q in questions
            if form[q.field_name].data not in (None, "")}
