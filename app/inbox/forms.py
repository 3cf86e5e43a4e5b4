"""Staff forms; Flask-WTF adds a CSRF token to every one of them."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from app.core import egress
from app.core.forms import Form
from app.core.validators import CLIENT_ID_PATTERN, EMAIL, TOO_LONG, strip
from models.alerting import ALERT_URL_MAX
from models.common import EMAIL_MAX, LABEL_MAX, MESSAGE_MAX, NAME_MAX
from models.contact import NOTE_MAX
from models.conversation import TAG_FIELDS


def _message_field(label, empty_message):
    return TextAreaField(label, filters=[strip], validators=[
        DataRequired(message=empty_message), Length(max=MESSAGE_MAX, message=TOO_LONG)])


class LoginForm(Form):
    email = EmailField(_l("Email"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter your email address.")),
        Length(max=EMAIL_MAX, message=TOO_LONG),
        Regexp(EMAIL, message=_l("That does not look like an email address."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Please enter your password.")), Length(max=200)])
    next = HiddenField()


class ReplyForm(Form):
    body = _message_field(_l("Reply to the customer"), _l("Please write a reply before sending."))
    client_id = HiddenField(validators=[Optional(), Regexp(CLIENT_ID_PATTERN)])


class NoteForm(Form):
    note = _message_field(_l("Private note"), _l("Please write the note before saving it."))


class TransferForm(Form):
    target = SelectField(_l("Transfer to"), validators=[
        DataRequired(message=_l("Please choose a teammate or a team."))],
        validate_choice=True, invalid_choice_message=_l(
            "Please choose a teammate or a team of your brand."))


class TagForm(Form):
    field = SelectField(choices=[SelectChoice(name) for name in TAG_FIELDS])
    value = StringField(validators=[DataRequired(), Length(max=64)])


class InsertCannedForm(Form):
    canned = SelectField(_l("Canned reply"), coerce=int, validate_choice=True,
                         invalid_choice_message=_l("Please choose one of your canned replies."))
    body = TextAreaField(filters=[strip], validators=[Optional(), Length(max=MESSAGE_MAX)])
    client_id = HiddenField(validators=[Optional(), Regexp(CLIENT_ID_PATTERN)])


def _apprise_url(form, field):
    from app.alerts.service import is_valid_url
    if not field.data:
        return
    scheme = field.data.partition("://")[0].lower()
    if scheme not in egress.ALERT_SCHEMES or not is_valid_url(field.data):
        raise ValidationError(_l(
            "Kulak cannot send alerts to that address. Use an Apprise URL such as "
            "mailto://user:password@mail.example.com?to=you@example.com, "
            "ntfys://ntfy.sh/your-topic or jsons://example.com/hook."))
    if egress.problem(field.data, egress.ALERT_SCHEMES,
                      current_app.config["EGRESS_ALLOW"]) is not None:
        raise ValidationError(egress.INTERNAL_REFUSED)


class AlertTargetForm(Form):
    label = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(message=_l("Please name this alert channel, e.g. “My phone”.")),
        Length(max=LABEL_MAX, message=TOO_LONG)])
    url = StringField(_l("Apprise URL"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter where alerts should go.")),
        Length(max=ALERT_URL_MAX, message=TOO_LONG), _apprise_url])


class QuietHoursForm(Form):
    quiet_from = TimeField(_l("Quiet from"), validators=[Optional()])
    quiet_until = TimeField(_l("until"), validators=[Optional()])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and (self.quiet_from.data is None) != (self.quiet_until.data is None):
            self.quiet_until.errors.append(_l("Please give both the start and the end of your "
                                              "quiet hours, or leave both empty."))
            return False
        return valid


class ContactForm(Form):
    """What staff know of a verified contact: empty fields clear it."""

    name = StringField(_l("Name"), filters=[strip], validators=[
        Optional(), Length(max=NAME_MAX, message=TOO_LONG)])
    note = TextAreaField(_l("Note"), filters=[strip], validators=[
        Optional(), Length(max=NOTE_MAX, message=TOO_LONG)])
