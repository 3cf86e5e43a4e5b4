"""Column helpers and input limits shared by every aggregate."""
from datetime import UTC, datetime

# Input limits: forms, the API and the database columns all read these.
SLUG_MAX = 64
NAME_MAX = 120
LABEL_MAX = 120
EMAIL_MAX = 254
CONTACT_MAX = 254
MESSAGE_MAX = 4000
ANSWER_TEXT_MAX = 500
ORIGIN_MAX = 200
CLIENT_ID_MAX = 64
LANGUAGES = ("en", "tr")


def utcnow():
    """Return the current UTC time without tzinfo (stored the same on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def localized(labels, language, fallback="en"):
    """Pick the text for `language` from a {language: text} mapping."""
    labels = labels or {}
    return labels.get(language) or labels.get(fallback) or next(iter(labels.values()), "")
