"""Validators and filters shared by every form, the CLI and (later) the API.

Plain functions first (they take and return values, so a domain operation or the CLI can use
them), then the WTForms validators built on them.
"""
import re
import unicodedata
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as NoMatch
from wtforms.validators import ValidationError

from models.common import SLUG_MAX

CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{6,25}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# First path segments Kulak uses, or may: a brand with one of these slugs would shadow a page.
RESERVED_SLUGS = frozenset({
    "admin", "api", "inbox", "static", "b", "c", "embed", "qr", "reports", "healthz", "metrics",
    "login", "logout", "assets", "vendor", "ws", "help", "kulak", "www", "demo-admin", "new"})
# WTForms' Length fills in %(max)d and %(length)d itself; domain checks call too_long().
TOO_LONG = _l("Please use at most %(max)d characters (it has %(length)d).")
# The largest id the id columns hold (INTEGER: 32 bits on PostgreSQL, which refuses a bigger
# parameter; SQLite raises OverflowError past 64): a bigger number names no row, so it must
# never reach a query.
ID_MAX = 2**31 - 1
_TURKISH = str.maketrans({"ı": "i", "İ": "i", "ş": "s", "Ş": "s", "ğ": "g", "Ğ": "g",
                          "ç": "c", "Ç": "c", "ö": "o", "Ö": "o", "ü": "u", "Ü": "u"})


def strip(value):
    """Trim the text and store line breaks as \\n: browsers send CRLF but count one character."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def too_long(limit, text):
    """Return TOO_LONG for `text` over `limit`, in the request's language."""
    return TOO_LONG % {"max": limit, "length": len(text)}


def bounded_id(value):
    """Return `value` as an id (0 to ID_MAX); raise ValueError otherwise, e.g. as `type=`."""
    number = int(value)
    if not 0 <= number <= ID_MAX:
        raise ValueError(f"{value!r} is no id")
    return number


class IdConverter(IntegerConverter):
    """The URL converter `int`: a number no id can be is no match (404), not a database error."""

    def __init__(self, map, fixed_digits=0, min=0, max=ID_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValueError:  # over int()'s 4300 digits: no match either, rather than a 500
            raise NoMatch() from None


def slugify(text):
    """Return a URL slug for a label: "Oda 412 – Deniz" -> "oda-412-deniz"."""
    text = unicodedata.normalize("NFKD", (text or "").translate(_TURKISH))
    text = text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:SLUG_MAX].strip("-")


def slug_problem(slug, reserved=frozenset()):
    """Return why `slug` cannot be used (a sentence), or None when it can."""
    if not slug:
        return _l("Please give a short name for the address, e.g. room-412.")
    if len(slug) > SLUG_MAX:
        return _("Please use at most %(max)d characters in the address.", max=SLUG_MAX)
    if not SLUG.match(slug):
        return _l("Use only lower-case letters a–z, digits and single dashes between them, "
                  "e.g. hotel-bosphorus.")
    if slug in reserved:
        return _("“%(slug)s” is reserved for Kulak's own pages: please choose another.",
                  slug=slug)
    return None


def origin_problem(origin):
    """Return why `origin` is not a web origin (scheme://host[:port]), or None."""
    parts = urlsplit(origin)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return _("“%(origin)s” has an invalid port.", origin=origin)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username or parts.password
            or any(c in origin for c in " *;'\",")):
        return _("“%(origin)s” is not an origin: write it as https://shop.example "
                  "(scheme and host, an optional port, no path).", origin=origin)
    return None


def email_or_phone(form, field):
    if field.data and not (EMAIL.match(field.data) or PHONE.match(field.data)):
        raise ValidationError(_l("Please enter an email address or a phone number."))


def slug_field(reserved=frozenset()):
    """Return a WTForms validator that refuses what slug_problem refuses."""
    def validate(form, field):
        problem = slug_problem(field.data, reserved)
        if problem:
            raise ValidationError(problem)
    return validate
