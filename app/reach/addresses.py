"""The addresses a customer may leave on their conversation page: checked and normalised."""
import re
from email.utils import parseaddr

from flask_babel import gettext as _

from app.core.validators import EMAIL
from models.common import CONTACT_MAX

# E.164: a plus, a country code, up to 15 digits in all. Spaces, dots, dashes and brackets
# people type between the digits are dropped; a number without its country code cannot be
# sent to by an SMS gateway, so it is refused with a word on how to write it.
PHONE_SEPARATORS = re.compile(r"[ ().\-/]")
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


class AddressRefused(ValueError):
    """An address that cannot be used, with a message the customer understands."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def normalise(channel, text):
    """Return `text` as the one stored form of an address on `channel`, or raise AddressRefused."""
    text = (text or "").strip()
    if not text:
        raise AddressRefused(_("Please enter an email address or a phone number."))
    if len(text) > CONTACT_MAX:
        raise AddressRefused(_("Please use at most %(max)d characters (it has %(length)d).",
                               max=CONTACT_MAX, length=len(text)))
    if channel == "email":
        if not EMAIL.match(text) or parseaddr(text)[1] != text or "," in text:
            raise AddressRefused(_("This is not an email address: write it as name@example.com."))
        return text.lower()
    if channel == "sms":
        number = PHONE_SEPARATORS.sub("", text)
        if number.startswith("00"):
            number = "+" + number[2:]
        if not E164.match(number):
            raise AddressRefused(_("This is not a phone number we can text: write it with its "
                                   "country code, such as +90 532 123 45 67."))
        return number
    raise AddressRefused(_("Please choose email or text message."))


def channel_of(text):
    """Guess the channel of an address typed in one box: an @ means email."""
    return "email" if "@" in (text or "") else "sms"
