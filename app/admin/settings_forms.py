"""Forms of the brand's settings pages: routing, escalation, business hours, webhooks, canned
replies. Flask-WTF adds a CSRF token to every one of them."""
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
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
    ValidationError,
)

from app.core import egress
from app.core.forms import Form
from app.core.validators import TOO_LONG, strip
from models.api import TOKEN_NAME_MAX
from models.brand import WEEKDAYS
from models.common import LABEL_MAX, MESSAGE_MAX
from models.webhook import WEBHOOK_URL_MAX


class CannedForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[
        DataRequired(message=_l("Please give the reply a short title.")),
        Length(max=LABEL_MAX, message=TOO_LONG)])
    # As long as a reply may be: a canned reply is inserted into one.
    body = TextAreaField(_l("Text"), filters=[strip], validators=[
        DataRequired(message=_l("Please write the reply's text.")),
        Length(max=MESSAGE_MAX, message=TOO_LONG)])


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


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice: every option visible, no script needed."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _http_url(form, field):
    try:
        parts = urlsplit(field.data or "")
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 address): no address at all
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_l("Please enter a full http:// or https:// address, e.g. "
                                 "https://crm.example.com/kulak-events."))
    if egress.problem(field.data, egress.WEBHOOK_SCHEMES,
                      current_app.config["EGRESS_ALLOW"]) is not None:
        raise ValidationError(egress.INTERNAL_REFUSED)


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


class ApiTokenForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(message=_l("Please name the token after what uses it, e.g. the CRM.")),
        Length(max=TOKEN_NAME_MAX, message=TOO_LONG)])
    read_only = BooleanField(_l("Read-only (it may read, never write)"), default=True)


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
            raise ValidationError(_("Urgent conversations should climb at least as fast: "
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
