"""What a message log shows: its newest page, what a page lacks after its cursor, earlier pages.

Shared by the customer's page, the staff thread, their polls and their live sockets, so each
piece of markup is drawn from the same context wherever it is sent.
"""
from models import transcript


def seen_by_staff(conversation, newest):
    """True when the newest message is the customer's and staff have had it on screen."""
    return (newest is not None and newest.author_kind == "customer"
            and newest.id <= (conversation.staff_seen_message_id or 0))


def page(conversation, internal=False):
    """Return the context of a log's first paint: the newest page, and where earlier ones start."""
    messages, earlier_id = transcript.newest(conversation.id, internal)
    newest = messages[-1] if messages else None
    return {"messages": messages, "earlier_id": earlier_id,
            "last_id": newest.id if newest else 0,
            "seen": seen_by_staff(conversation, newest)}


def earlier(conversation, before, internal=False):
    """Return the page of messages before `before`, and where the one before it starts."""
    messages, earlier_id = transcript.newest(conversation.id, internal, before=before)
    return {"messages": messages, "earlier_id": earlier_id}


def since(conversation, after, internal=False, missing=(), trusted=False,
          read_after=transcript.after):
    """Return what a page whose newest message is `after` lacks: the messages after it, or
    (`replace`) its whole newest page when the gap is wider than a page, `after` is not one of
    its messages (unless `trusted`: the server set it), or one of `missing` (posted, never
    sent to this page) is at or before `after`: committed after a newer one. `read_after`
    reads the messages after an id (a live delivery shares one read among its audiences)."""
    fresh = read_after(conversation.id, after, internal)
    known = trusted or not after or transcript.existing(conversation.id, [after], internal)
    late = [i for i in missing if i <= after]
    if (len(fresh) > transcript.PAGE or not known
            or (late and transcript.existing(conversation.id, late, internal))):
        return {**page(conversation, internal), "replace": True}
    if not fresh:
        newest = transcript.last(conversation.id, internal) if after else None
        return {"messages": [], "cursor": after, "last_id": after, "replace": False,
                "seen": seen_by_staff(conversation, newest)}
    return {"messages": fresh, "cursor": after, "last_id": fresh[-1].id, "replace": False,
            "seen": seen_by_staff(conversation, fresh[-1])}
