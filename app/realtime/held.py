"""Rows an event's renders share: read once per delivery, however many audiences it has.

The hub holds one request context around all of an event's renders (its delivery); its
session's identity map keeps rows only weakly, so without this each audience would read them
again.
"""
from flask import g
from sqlalchemy.orm import joinedload

from models import Conversation, StaffMember, db


def _held(kind, key, load):
    held = g.setdefault(f"live_{kind}", {})
    if key not in held:
        held[key] = load()
    return held[key]


def conversation(conversation_id):
    """Return the conversation with what every fragment shows of it (None if it is gone)."""
    return _held("conversations", conversation_id, lambda: db.session.get(
        Conversation, conversation_id, options=[
            joinedload(Conversation.brand), joinedload(Conversation.touchpoint),
            joinedload(Conversation.category), joinedload(Conversation.assignee),
            joinedload(Conversation.team)]))


def staff(staff_id):
    """Return a member of staff with what scoping reads: their touchpoints and teams."""
    # populate_existing: the row may already be in the session as the conversation's
    # assignee, and get() would then return it as it is, leaving both to lazy loads.
    return _held("staff", staff_id, lambda: db.session.get(StaffMember, staff_id, options=[
        joinedload(StaffMember.touchpoints), joinedload(StaffMember.teams)],
        populate_existing=True))
