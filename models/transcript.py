"""Windows onto a conversation's messages: the newest page, what came after an id, earlier pages.

A page never loads the whole history: a hotel stay's conversation may hold thousands of
messages, and what a page shows (or a live event adds) must cost the same at message 5 as at
message 5,000.
"""
from functools import cache

from sqlalchemy.orm import joinedload

from models import db, run_alone
from models.conversation import Conversation, Message

PAGE = 50


def _select(conversation_id, internal):
    # Staff authors come along: a transcript must not cost a query per reply.
    query = (db.select(Message).filter(Message.conversation_id == conversation_id)
             .options(joinedload(Message.staff)))
    return query if internal else query.filter(Message.internal.is_(False))


def newest(conversation_id, internal=False, before=None, limit=PAGE):
    """Return (up to `limit` messages before `before` or the newest, oldest first; the id an
    "earlier messages" link starts from, or None when there is nothing earlier)."""
    query = _select(conversation_id, internal)
    if before is not None:
        query = query.filter(Message.id < before)
    rows = db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)).all()
    earlier = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit][::-1], earlier


def after(conversation_id, message_id, internal=False, limit=PAGE):
    """Return up to `limit` + 1 messages newer than `message_id`, oldest first (one more than
    asked tells the caller the gap is wider than a page)."""
    query = _select(conversation_id, internal).filter(Message.id > message_id)
    return db.session.scalars(query.order_by(Message.id).limit(limit + 1)).all()


def existing(conversation_id, ids, internal=False):
    """Return which of `ids` are messages of the conversation this audience sees."""
    if not ids:
        return set()
    query = db.select(Message.id).filter(Message.conversation_id == conversation_id,
                                         Message.id.in_(list(ids)))
    if not internal:
        query = query.filter(Message.internal.is_(False))
    return set(db.session.scalars(query))


def last(conversation_id, internal=False):
    """Return the conversation's newest message this audience sees, or None."""
    return db.session.scalar(_select(conversation_id, internal).order_by(Message.id.desc())
                             .limit(1))


def first_line(conversation_id):
    """Return the body of the first customer message of the conversation whose id is
    `conversation_id` (a column of the enclosing query), as a scalar subquery."""
    return (db.select(Message.body)
            .where(Message.conversation_id == conversation_id, Message.author_kind == "customer")
            .order_by(Message.id).limit(1).scalar_subquery())


def openings(conversation_ids):
    """Return {conversation id: the body of its first customer message} in one query."""
    if not conversation_ids:
        return {}
    rows = db.session.execute(db.select(Conversation.id, first_line(Conversation.id))
                              .where(Conversation.id.in_(list(conversation_ids))))
    return {conversation_id: body for conversation_id, body in rows if body is not None}


def frame_state(token):
    """Return, in one query, what the message frame of the conversation behind `token` shows
    beyond its messages' text, or None: a refresh that finds it unchanged renders nothing."""
    from models.conversation import TOKEN_PATTERN
    if not token or not TOKEN_PATTERN.match(token):
        return None
    # Alone, outside the request's session: a refresh with nothing new costs one round trip.
    return run_alone(_frame_state_statement(), {"token": token})


@cache
def _frame_state_statement():
    # Built once, as a post's statements are: a refresh does not rebuild its query.
    from models.brand import Brand
    from models.conversation import Conversation
    newest = (db.select(db.func.max(Message.id))
              .where(Message.conversation_id == Conversation.id, Message.internal.is_(False))
              .correlate(Conversation).scalar_subquery())
    return (db.select(Conversation.id, newest.label("newest"), Conversation.staff_seen_message_id,
                      Conversation.status, Conversation.resolved_at, Conversation.csat,
                      Conversation.nps, Conversation.language, Brand.rating_days,
                      Brand.embed_origins)
            .join(Brand, Brand.id == Conversation.brand_id)
            .where(Conversation.token == db.bindparam("token")))
