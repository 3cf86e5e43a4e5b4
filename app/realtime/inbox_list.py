"""The inbox list live: a changed conversation's row is redrawn, moves, arrives or leaves.

The server knows which rows each list socket's page holds (it sent them), so an update only
names rows that are there; when more than the one row changed, the list is sent whole.
"""
from flask import render_template

from app.inbox import service
from app.realtime import held
from app.realtime.hub import RESUME, Frame
from models import transcript


def _list_context(staff, view, status, conversations):
    return {"view": view, "status_filter": status, "conversations": conversations,
            "openings": transcript.openings([c.id for c in conversations])}


def row_change(old, new, conversation_id):
    """Return how the row of `conversation_id` changes from list `old` to `new` (id tuples):
    {remove, replace, insert, before}, or None when other rows changed too."""
    if [i for i in old if i != conversation_id] != [i for i in new if i != conversation_id]:
        return None
    was, now = conversation_id in old, conversation_id in new

    def next_of(ids):
        at = ids.index(conversation_id) + 1
        return ids[at] if at < len(ids) else None
    before = next_of(new) if now else None
    moved = was and now and next_of(old) != before
    return {"remove": was and (moved or not now), "replace": was and now and not moved,
            "insert": now and (moved or not was), "before": before}


def inbox_update(event, socket):
    """Render what a conversation's change does to the list on `socket`'s page."""
    staff = held.staff(socket.staff_id)
    if staff is None:
        return ""
    view, status = socket.list_view or (service.VIEWS[0], "open")
    ids = service.inbox_ids(staff, view, status)
    change = None
    if event.get("type") != RESUME and socket.cursor is not None:
        change = row_change(socket.cursor, ids, event.get("conversation_id"))
    if change is None:  # a (re)connecting page, or several rows moved: the whole list
        conversations = service.inbox(staff, view, status)
        return Frame(render_template("inbox/_main.html", counts=service.inbox_counts(staff),
                                     **_list_context(staff, view, status, conversations)),
                     cursor=ids)
    conversation = held.conversation(event["conversation_id"])  # shared with the thread's
    if conversation is None:
        return Frame("", cursor=ids)
    context = {"view": view, "status_filter": status, "conversations": ids,
               "openings": {conversation.id: held.opening(conversation.id)}}
    html = render_template("inbox/_list_live.html", conversation=conversation, **context, **change)
    return Frame(html, cursor=ids)
