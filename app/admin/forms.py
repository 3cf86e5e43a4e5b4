"""Brand setup forms; Flask-WTF adds a CSRF token to every one of them."""
from zoneinfo import available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
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
from app.core.validators import COLOUR, TOO_LONG, origin_problem, strip
from app.reach import sending
from models.brand import SMS_URL_MAX
from models.common import LABEL_MAX, NAME_MAX, ORIGIN_MAX
from models.satisfaction import RATING_MODES

ACK_MAX = 500
ORIGINS_MAX = 20
LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("tr", "Türkçe")]
RATING_MODE_LABELS = {
    "csat": _l("How satisfied they are (1–5)"),
    "nps": _l("How likely they are to recommend you (NPS, 0–10) instead"),
    "both": _l("How satisfied they are, then how likely to recommend you"),
}


def _whole_number(label, low, high, missing, out_of_range):
    return IntegerField(label, validators=[InputRequired(message=missing),
                                           NumberRange(min=low, max=high, message=out_of_range)])


def lines(value):
    """Split a textarea into its non-empty, trimmed lines."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class BrandForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(message=_l("Please give the brand's name.")),
        Length(max=NAME_MAX, message=TOO_LONG)])
    default_language = SelectField(_l("Default language"), choices=LANGUAGE_CHOICES,
                                   invalid_choice_message=_l("Please choose English or Türkçe."))
    responder_en = StringField(_l("Who answers (English)"), filters=[strip], validators=[
        Optional(), Length(max=LABEL_MAX, message=TOO_LONG)])
    responder_tr = StringField(_l("Who answers (Turkish)"), filters=[strip], validators=[
        Optional(), Length(max=LABEL_MAX, message=TOO_LONG)])
    acknowledgement_en = TextAreaField(_l("Acknowledgement (English)"), filters=[strip],
                                       validators=[Optional(),
                                                   Length(max=ACK_MAX, message=TOO_LONG)])
    acknowledgement_tr = TextAreaField(_l("Acknowledgement (Turkish)"), filters=[strip],
                                       validators=[Optional(),
                                                   Length(max=ACK_MAX, message=TOO_LONG)])
    expected_response_minutes = IntegerField(_l("We answer within (minutes)"), validators=[
        InputRequired(message=_l("Please say within how many minutes you answer.")),
        NumberRange(min=1, max=1440, message=_l("Please give between 1 and 1440 minutes."))])
    idle_timeout_minutes = IntegerField(_l("Sign staff out after this many idle minutes"),
                                        validators=[
        InputRequired(message=_l("Please say after how many idle minutes staff are signed out.")),
        NumberRange(min=5, max=10080, message=_l("Please give between 5 and 10080 minutes "
                                                 "(a week)."))])
    timezone = StringField(_l("Time zone"), filters=[strip], validators=[
        DataRequired(message=_l("Please give the time zone, e.g. Europe/Istanbul.")),
        Length(max=64, message=TOO_LONG)])
    embed_origins = TextAreaField(_l("Sites that may embed the chat, one per line"),
                                  filters=[strip], validators=[Optional()])
    colour = StringField(_l("Colour of your customer pages"), filters=[strip], validators=[
        DataRequired(message=_l("Please choose a colour.")),
        Regexp(COLOUR, message=_l("Please give a colour as #rrggbb, e.g. #23395d."))])

    rating_mode = SelectField(
        _l("After a conversation is resolved, ask customers"),
        choices=[SelectChoice(mode, RATING_MODE_LABELS[mode]) for mode in RATING_MODES],
        invalid_choice_message=_l("Please choose one of the questions to ask."))
    rating_days = _whole_number(
        _l("Customers may rate or change their rating for (days)"), 1, 90,
        _l("Please say for how many days customers may rate a conversation."),
        _l("Please give between 1 and 90 days."))
    response_target_minutes = _whole_number(
        _l("Target for the first reply, in reports (minutes)"), 1, 1440,
        _l("Please say within how many minutes the first reply should come."),
        _l("Please give a first-reply target between 1 and 1440 minutes (a day)."))
    visit_minutes = _whole_number(
        _l("A visit lasts about (minutes)"), 5, 1440,
        _l("Please say about how many minutes a visit lasts."),
        _l("Please give a visit length between 5 and 1440 minutes (a day)."))

    # Never filled in from the stored gateway: its URL holds the provider's token.
    sms_url = StringField(_l("SMS gateway (an Apprise URL)"), filters=[strip], validators=[
        Optional(), Length(max=SMS_URL_MAX, message=TOO_LONG)])
    remove_sms_url = BooleanField(_l("Remove the SMS gateway"))
    away_minutes = _whole_number(
        _l("Send replies a customer missed after (minutes)"), 1, 60,
        _l("Please say after how many minutes a customer gets the replies they missed."),
        _l("Please give between 1 and 60 minutes."))

    def validate_sms_url(self, field):
        problem = field.data and sending.sms_url_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_timezone(self, field):
        if field.data not in available_timezones():
            raise ValidationError(_("“%(zone)s” is not a time zone this server knows; use a "
                                     "name such as Europe/Istanbul or UTC.", zone=field.data))

    def validate_embed_origins(self, field):
        origins = lines(field.data)
        if len(origins) > ORIGINS_MAX:
            raise ValidationError(_("Please list at most %(max)d sites.", max=ORIGINS_MAX))
        for origin in origins:
            if len(origin) > ORIGIN_MAX:
                raise ValidationError(_("Each site may have at most %(max)d characters.",
                                         max=ORIGIN_MAX))
            problem = origin_problem(origin)
            if problem:
                raise ValidationError(problem)

    def validate_acknowledgement_en(self, field):
        _known_placeholders(field)

    def validate_acknowledgement_tr(self, field):
        _known_placeholders(field)


def _known_placeholders(field):
    text = (field.data or "").replace("{team}", "").replace("{minutes}", "")
    if "{" in text or "}" in text:
        raise ValidationError(_l("Only {team} and {minutes} can be filled in; remove the other "
                                 "braces."))
