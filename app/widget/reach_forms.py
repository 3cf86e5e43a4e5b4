"""The customer's forms of the way back: where to reach them, and replies on or off."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from app.core.validators import strip
from app.widget.forms import CustomerForm
from models.common import CONTACT_MAX
from models.contact import CHANNELS


class ReachForm(CustomerForm):
    address = StringField(_l("Email or phone number"), id="reach-address", filters=[strip],
                          validators=[
                              DataRequired(message=_l(
                                  "Please enter an email address or a phone number.")),
                              Length(max=CONTACT_MAX, message=_l(
                                  "Please use at most %(max)d characters."))])
    # Left out, it is told from the address (an @ is email): the page has one box.
    channel = StringField(validators=[Optional(), AnyOf(CHANNELS, message=_l(
        "Please choose email or text message."))])
    replies = BooleanField(_l("Also send me the replies I miss here"))


class RepliesForm(CustomerForm):
    replies = RadioField(choices=[SelectChoice("on", _l("On")), SelectChoice("off", _l("Off"))],
                         validators=[InputRequired(message=_l(
                             "Please choose whether replies are sent to you."))],
                         invalid_choice_message=_l("Please choose one of the options."))
