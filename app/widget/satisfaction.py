"""The customer's rating of a resolved conversation: CSAT (1-5), NPS (0-10), a comment.

One rating per resolution (Conversation.resolved_count is its round): the customer may change
it until the conversation is reopened or the brand's limit (rating_days) passes.
"""
import re
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from app.core.validators import CLIENT_ID_PATTERN
from models import Rating, db
from models.common import utcnow
from models.conversation import commit_once
from models.satisfaction import COMMENT_MAX, CSAT_SCALE, NPS_SCALE

FACES = (
    (1, "😠", _l("Very dissatisfied")),
    (2, "🙁", _l("Dissatisfied")),
    (3, "😐", _l("Neither satisfied nor dissatisfied")),
    (4, "🙂", _l("Satisfied")),
    (5, "😄", _l("Very satisfied")),
)
NOT_RESOLVED = _l("This conversation is not resolved, so there is nothing to rate now: we "
                  "will ask once it is.")
WINDOW_OVER = _l("The time for rating this conversation has passed. Thank you all the same.")
CHOOSE = _l("Please choose one of the answers.")
CSAT_OFF_SCALE = _l("Please choose one of the five faces.")
NPS_OFF_SCALE = _l("Please choose a number from 0 to 10.")
COMMENT_TOO_LONG = _l("Your comment is %(length)d characters long; the limit is %(max)d.")


class RatingRefused(ValueError):
    """A rating that cannot be stored; `message` says why, in the customer's words."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def asked(brand):
    """Return the questions `brand` asks, in order: ("csat",), ("nps",) or both."""
    return {"nps": ("nps",), "both": ("csat", "nps")}.get(brand.rating_mode, ("csat",))


def rating_until(conversation):
    """Return when the rating of the current resolution closes, or None if it is not resolved."""
    if conversation.status != "resolved" or conversation.resolved_at is None:
        return None
    return conversation.resolved_at + timedelta(days=conversation.brand.rating_days)


def rating_open(conversation, now=None):
    """True while the customer may give or change their rating of the current resolution."""
    until = rating_until(conversation)
    return until is not None and (now or utcnow()) < until


def _round(conversation):
    # Resolved before resolutions were counted: that resolution is the first.
    return max(conversation.resolved_count or 0, 1)


def current_rating(conversation):
    """Return the rating of the conversation's latest resolution, or None."""
    if not conversation.resolved_count and conversation.status != "resolved":
        return None
    return db.session.scalar(db.select(Rating).filter_by(
        conversation_id=conversation.id, round=_round(conversation)))


def _score(value, scale, message):
    """Return `value` (an int or its digits) as an int on `scale`, None if not given."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"\d{1,3}", value):
            raise RatingRefused(message)
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in scale:
        raise RatingRefused(message)
    return value


def _comment(text):
    """Return the comment to store ("" clears it), or None to keep the stored one."""
    if text is None:
        return None
    text = text.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    if len(text) > COMMENT_MAX:
        raise RatingRefused(COMMENT_TOO_LONG % {"length": len(text), "max": COMMENT_MAX})
    return text


def _values(conversation, csat, nps, comment):
    """Check the answer against the brand's questions; return the columns it changes."""
    questions = asked(conversation.brand)
    values = {"csat": _score(csat, CSAT_SCALE, CSAT_OFF_SCALE),
              "nps": _score(nps, NPS_SCALE, NPS_OFF_SCALE)}
    for question, value in values.items():
        if value is not None and question not in questions:
            # A question this brand does not ask: an old page or a forged post.
            raise RatingRefused(CHOOSE)
    values = {key: value for key, value in values.items() if value is not None}
    if (comment := _comment(comment)) is not None:
        values["comment"] = comment or None
    return values


def _apply(conversation, rating, values, client_id):
    for column, value in values.items():
        setattr(rating, column, value)
    rating.client_id = client_id or rating.client_id
    rating.updated_at = utcnow()
    # The newest round's answer is the customer's latest word, which reports read from here.
    conversation.csat, conversation.nps = rating.csat, rating.nps


def rate(conversation, csat=None, nps=None, comment=None, client_id=None):
    """Store or change the customer's rating of the latest resolution; return (rating, stored).

    Refused (RatingRefused, nothing stored) unless the conversation is resolved and within
    the brand's limit, and each value on its scale. A post with the client id of the stored
    answer is a retry: it changes nothing.
    """
    if not rating_open(conversation):
        raise RatingRefused(NOT_RESOLVED if rating_until(conversation) is None else WINDOW_OVER)
    values = _values(conversation, csat, nps, comment)
    client_id = client_id if client_id and re.match(CLIENT_ID_PATTERN, client_id) else None
    existing = current_rating(conversation)
    if existing is not None and client_id and existing.client_id == client_id:
        return existing, False
    if existing is None and not ({"csat", "nps"} & values.keys()):
        raise RatingRefused(CHOOSE)

    def write():
        rating = existing or Rating(brand_id=conversation.brand_id,
                                    conversation_id=conversation.id, round=_round(conversation))
        _apply(conversation, rating, values, client_id)
        db.session.add(rating)
        return rating

    rating, stored = commit_once(lambda: current_rating(conversation), write)
    if not stored and (client_id is None or rating.client_id != client_id):
        # Another page's first answer won the race for this round: ours changes it.
        _apply(conversation, rating, values, client_id)
        db.session.commit()
        stored = True
    return rating, stored


def rating_context(conversation, client_id=None, error=None):
    """Return what widget/_rating.html shows for `conversation` (empty when not open)."""
    is_open = rating_open(conversation)
    rating = current_rating(conversation) if is_open else None
    questions = asked(conversation.brand)
    if questions == ("csat", "nps") and (rating is None or rating.csat is None):
        questions = ("csat",)  # one question at a time: NPS follows the CSAT answer
    return {"rating_open": is_open, "rating": rating, "rating_questions": questions,
            "rating_until": rating_until(conversation), "rating_client_id": client_id,
            "rating_error": error, "faces": FACES, "comment_max": COMMENT_MAX}
