"""Rows an event's renders share: read once per delivery, however many audiences it has.

The hub holds one request context around all of an event's renders (its delivery); its
session's identity map keeps rows only weakly, so without this each audience would read them
again. The statements are built once: a delivery does not rebuild its loader options or their
cache keys.
"""
from functools import cache

from flask import g
from sqlalchemy.orm import joinedload

from models import Brand, Conversation, StaffMember, db, transcript


def _held(kind, key, load):
    held = g.setdefault(f"live_{kind}", {})
    if key not in held:
        held[key] = load()
    return held[key]


# What fragments show of the brand and the assignee. The rest of their rows (JSON settings,
# a password hash) is left out of every delivery's read; a fragment that needs it loads it.
BRAND_SHOWN = (Brand.slug, Brand.name, Brand.default_language, Brand.timezone, Brand.colour,
               Brand.rating_mode, Brand.rating_days)


@cache
def _conversation_statement():
    # The inbox row's first line (the customer's first message) comes along: a list socket's
    # row then costs no read of its own.
    return (db.select(Conversation, transcript.first_line(Conversation.id))
            .options(joinedload(Conversation.brand).load_only(*BRAND_SHOWN),
                     joinedload(Conversation.touchpoint), joinedload(Conversation.category),
                     joinedload(Conversation.assignee).load_only(
                         StaffMember.brand_id, StaffMember.name),
                     joinedload(Conversation.team))
            .where(Conversation.id == db.bindparam("id")))


@cache
def _staff_statement():
    # populate_existing: the row may already be in the session as the conversation's
    # assignee, without its collections, and would then be returned as it is.
    return (db.select(StaffMember)
            .options(joinedload(StaffMember.touchpoints), joinedload(StaffMember.teams))
            .where(StaffMember.id == db.bindparam("id"))
            .execution_options(populate_existing=True))


def _conversation_row(conversation_id):
    """Return (the conversation or None, the body of its first customer message or "")."""
    def load():
        row = db.session.execute(_conversation_statement(),
                                 {"id": conversation_id}).unique().first()
        return (row[0], row[1] or "") if row is not None else (None, "")
    return _held("conversations", conversation_id, load)


def conversation(conversation_id):
    """Return the conversation with what every fragment shows of it (None if it is gone)."""
    return _conversation_row(conversation_id)[0]


def opening(conversation_id):
    """Return the body of the conversation's first customer message ("" if none)."""
    return _conversation_row(conversation_id)[1]


def staff(staff_id):
    """Return a member of staff with what scoping reads: their touchpoints and teams."""
    return _held("staff", staff_id, lambda: db.session.execute(
        _staff_statement(), {"id": staff_id}).unique().scalar_one_or_none())


def messages_after(conversation_id, after, internal):
    """Return what transcript.after returns, from one read per delivery where it can: the
    first audience's read (with private notes) serves every later one whose page holds at
    least as much, the customer's by leaving the notes out."""
    reads = g.setdefault("live_after", {})
    if (shared := reads.get(conversation_id)) is not None:
        start, rows = shared
        complete = len(rows) <= transcript.PAGE  # nothing past the read's last row
        if start <= after and complete:
            return [m for m in rows if m.id > after and (internal or not m.internal)]
    rows = transcript.after(conversation_id, after, internal=True)
    reads[conversation_id] = (after, rows)
    if internal or len(rows) <= transcript.PAGE:
        return [m for m in rows if internal or not m.internal]
    # Notes among a wider gap than a page: the customer's page needs its own read.
    return transcript.after(conversation_id, after, internal=False)
