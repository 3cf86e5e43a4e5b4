"""Staff forms; Flask-WTF adds a CSRF token to every one of them."""
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.core.forms import Form
from app.core.validators import CLIENT_ID_PATTERN, EMAIL, TOO_LONG, strip
from models.alerting import ALERT_URL_MAX
from models.brand import WEEKDAYS
from models.common import EMAIL_MAX, LABEL_MAX, MESSAGE_MAX
from models.conversation import TAG_FIELDS
from models.webhook import WEBHOOK_URL_MAX


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


PASSWORD_MIN = 10


class SetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Please choose a password.")),
        Length(min=PASSWORD_MIN, max=200, message=_l(
            "Please use between %(min)d and %(max)d characters."))])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(message=_l("Please type the password a second time."))])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


class ReplyForm(Form):
    body = _message_field(_l("Reply to the customer"), _l("Please write a reply before sending."))
    client_id = HiddenField(validators=[Optional(), Regexp(CLIENT_ID_PATTERN)])


class NoteForm(Form):
    note = _message_field(_l("Private note"), _l("Please write the note before saving it."))


class ActionForm(Form):
    """A button that only carries the CSRF token: assign to me, resolve, reopen."""


class TransferForm(Form):
    target = SelectField(_l("Transfer to"), validators=[
        DataRequired(message=_l("Please choose a teammate or a team."))],
        validate_choice=True, invalid_choice_message=_l(
            "Please choose a teammate or a team of your brand."))


class TagForm(Form):
    field = SelectField(choices=[SelectChoice(name) for name in TAG_FIELDS])
    value = StringField(validators=[DataRequired(), Length(max=64)])


class CannedForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[
        DataRequired(message=_l("Please give the reply a short title.")),
        Length(max=LABEL_MAX, message=TOO_LONG)])
    body = _message_field(_l("Text"), _l("Please write the reply's text."))


class InsertCannedForm(Form):
    canned = SelectField(_l("Canned reply"), coerce=int, validate_choice=True,
                         invalid_choice_message=_l("Please choose one of your canned replies."))
    body = TextAreaField(filters=[strip], validators=[Optional(), Length(max=MESSAGE_MAX)])
    client_id = HiddenField(validators=[Optional(), Regexp(CLIENT_ID_PATTERN)])


class RoutingRuleForm(Form):
    """A routing rule: conditions (empty means any) and the team; choices are the brand's own."""

    category = SelectField(_l("Category"), validate_choice=True,
                           invalid_choice_message=_l("Please choose one of your categories."))
    touchpoint = SelectField(_l("Place"), validate_choice=True,
                             invalid_choice_message=_l("Please choose one of your places."))
    urgency = SelectField(_l("Urgency"), validate_choice=True, choices=[
        SelectChoice("", _l("Any")), SelectChoice("urgent", _l("Urgent")),
        SelectChoice("normal", _l("Normal"))],
        invalid_choice_message=_l("Please choose urgent, normal or any."))
    language = SelectField(_l("Language"), validate_choice=True, choices=[
        SelectChoice("", _l("Any")), SelectChoice("en", "English"), SelectChoice("tr", "Türkçe")],
        invalid_choice_message=_l("Please choose English, Türkçe or any."))
    team = SelectField(_l("Team"), validate_choice=True, validators=[
        DataRequired(message=_l("Please choose the team these conversations go to."))],
        invalid_choice_message=_l("Please choose one of your teams."))


def _apprise_url(form, field):
    from app.alerts.service import is_valid_url
    if field.data and not is_valid_url(field.data):
        raise ValidationError(_l(
            "Kulak cannot send alerts to that address. Use an Apprise URL such as "
            "mailto://user:password@mail.example.com?to=you@example.com, "
            "ntfys://ntfy.sh/your-topic or jsons://example.com/hook."))


class AlertTargetForm(Form):
    label = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(message=_l("Please name this alert channel, e.g. “My phone”.")),
        Length(max=LABEL_MAX, message=TOO_LONG)])
    url = StringField(_l("Apprise URL"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter where alerts should go.")),
        Length(max=ALERT_URL_MAX, message=TOO_LONG), _apprise_url])


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice: every option visible, no script needed."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _http_url(form, field):
    parts = urlsplit(field.data or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_l("Please enter a full http:// or https:// address, e.g. "
                                 "https://crm.example.com/kulak-events."))


class WebhookForm(Form):
    url = StringField(_l("Endpoint URL"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter the address that receives the events.")),
        Length(max=WEBHOOK_URL_MAX, message=TOO_LONG), _http_url])
    events = MultiCheckboxField(_l("Events"), choices=[
        SelectChoice("conversation.created", _l("A conversation starts")),
        SelectChoice("message.created", _l("A message is written")),
        SelectChoice("conversation.escalated", _l("A conversation is escalated")),
        SelectChoice("conversation.resolved", _l("A conversation is resolved"))],
        validators=[DataRequired(message=_l("Please choose at least one event."))])


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


MINUTES = [NumberRange(min=1, max=10080, message=_l("Please give between 1 and 10080 minutes "
                                                    "(a week)."))]


class EscalationLevelForm(Form):
    waits_for = SelectField(_l("Until staff"), choices=[
        SelectChoice("reply", _l("reply to the customer")),
        SelectChoice("seen", _l("have read it")),
        SelectChoice("note", _l("write an internal note")),
        SelectChoice("resolved", _l("resolve it"))])
    after_minutes = IntegerField(_l("Wait (minutes)"), validators=[
        InputRequired(message=_l("Please say how many minutes to wait.")), *MINUTES])
    urgent_after_minutes = IntegerField(_l("When urgent, wait (minutes)"), validators=[
        InputRequired(message=_l("Please say how many minutes to wait when it is urgent.")),
        *MINUTES])
    act = SelectField(_l("Then"), choices=[
        SelectChoice("alert", _l("alert")), SelectChoice("reassign", _l("reassign it to")),
        SelectChoice("tag_urgent", _l("tag it urgent, to the top of every list, and alert"))])
    target = SelectField(_l("Whom"), validate_choice=True,
                         invalid_choice_message=_l("Please choose someone of this brand."))

    def validate_urgent_after_minutes(self, field):
        if self.after_minutes.data and field.data and field.data > self.after_minutes.data:
            raise ValidationError(_l("Urgent conversations should climb at least as fast: "
                                     "use at most %(minutes)d minutes.",
                                     minutes=self.after_minutes.data))


class BusinessHoursForm(Form):
    """Opening and closing time per weekday; a day left empty is closed, all empty: always."""

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for day in WEEKDAYS:
            opens, closes = self[f"{day}_opens"], self[f"{day}_closes"]
            if (opens.data is None) != (closes.data is None):
                closes.errors.append(_l("Please give both the opening and the closing time, "
                                        "or leave both empty for a closed day."))
                valid = False
            elif opens.data is not None and opens.data >= closes.data:
                closes.errors.append(_l("The closing time must be after the opening time."))
                valid = False
        return valid

    def hours(self):
        return {day: [self[f"{day}_opens"].data.strftime("%H:%M"),
                      self[f"{day}_closes"].data.strftime("%H:%M")]
                for day in WEEKDAYS if self[f"{day}_opens"].data is not None}


for _day in WEEKDAYS:
    setattr(BusinessHoursForm, f"{_day}_opens", TimeField(validators=[Optional()]))
    setattr(BusinessHoursForm, f"{_day}_closes", TimeField(validators=[Optional()]))
