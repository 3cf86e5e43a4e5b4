"""What a live event shows each audience: HTML fragments swapped in by id (htmx ws).

A new message is appended, never a new copy of the list: what a socket is sent depends on the
news and on the newest message its page holds, not on how long the conversation is.
"""
from functools import partial

from flask import render_template
from flask_babel import force_locale, get_locale

from app.core import transcript
from app.core.scoping import sees
from app.inbox import service as inbox_service
from app.inbox.context import header_context
from app.realtime import held
from app.realtime.hub import RESUME, Frame
from app.realtime.inbox_list import inbox_update
from app.widget.satisfaction import rating_context
from models import Conversation, db
from models import transcript as log

UPDATES = ("message", "conversation", RESUME)


def news_for(conversation, socket, event, internal):
    """Return what `socket`'s page lacks (see transcript.since), or None before it has said
    which messages it holds."""
    resuming = event.get("type") == RESUME
    after = socket.resumed_from if resuming else socket.cursor
    if after is None:
        return None
    return transcript.since(conversation, after, internal, missing=socket.late(event),
                            trusted=not resuming, read_after=held.messages_after)


def _shown(news):
    return tuple(message.id for message in news["messages"]) if news else ()


def customer_frame(conversation, socket, event):
    """Render a live event for the customer's page."""
    kind = event.get("type")
    news = news_for(conversation, socket, event, internal=False) if kind in UPDATES else None
    if kind == "message" and news is not None and not news["messages"] and not news["replace"]:
        return Frame("")  # a private note: nothing on the customer's page changed
    context = dict(news or {})
    if kind == "seen":
        context["seen"] = transcript.seen_by_staff(conversation, log.last(conversation.id))
    # Only a change of the conversation (resolved, reopened) redraws the rating question: a
    # typing line or a new message leaves a half-chosen answer alone.
    with_rating = kind in ("conversation", RESUME)
    with force_locale(conversation.language):
        html = render_template(
            "widget/_live.html", conversation=conversation, brand=conversation.brand,
            with_messages=news is not None, with_seen=kind == "seen",
            with_typing=kind in UPDATES, with_rating=with_rating, oob=True,
            **context, **(rating_context(conversation) if with_rating else {}))
    shown = _shown(news)
    # Replies on the customer's open page once sent need no mail or SMS. Rendered once for all
    # their sockets: the first send stamps it (the hub runs after-send work once per render).
    # Their own message is no reply: it needs no stamp.
    replies = news and any(m.author_kind != "customer" for m in news["messages"])
    after_send = partial(customer_saw, conversation.id, news["last_id"]) if replies else None
    return Frame(html, after_send, news["last_id"] if news else None, shown)


def staff_frame(conversation, staff, socket, event):
    """Render a live event for a staff thread: the new messages, then the status line (or the
    whole header when the conversation itself changed)."""
    kind = event.get("type")
    news = news_for(conversation, socket, event, internal=True)
    with_header = kind in ("conversation", RESUME)
    retagged = () if with_header else tuple(event.get("retagged") or ())
    if with_header:
        context = header_context(conversation, staff)
    else:
        context = {"conversation": conversation, "brand": conversation.brand}
        if retagged:
            context["tag_options"] = inbox_service.tag_options(conversation, str(get_locale()))
    html = render_template(
        "inbox/_live.html", oob=True, with_messages=news is not None, with_header=with_header,
        with_summary=True, retagged=retagged, **(news or {}), **context)
    shown = _shown(news)
    customer_ids = [m.id for m in news["messages"] if m.author_kind == "customer"] if news else []
    # Staff have this conversation open: once this is sent, the customer's new message is on
    # their screen. Stamped after the send, so it costs the delivery nothing.
    after_send = partial(mark_seen, conversation.id, max(customer_ids)) if customer_ids else None
    return Frame(html, after_send, news["last_id"] if news else None, shown)


def seen_view(event, socket):
    """Render the customer's "Seen" line from the event alone, with no read: it is on when the
    newest message their page holds is the customer message staff have had on screen."""
    with force_locale(event["language"]):
        return render_template("widget/_live.html", with_seen=True, oob=True,
                               seen=socket.cursor == event["seen_id"])


def typing_view(audience, name):
    """Render who is typing (or nobody) for one side's page."""
    template = "widget/_typing.html" if audience == "customer" else "inbox/_typing.html"
    return render_template(template, typing_name=name)


def inbox_poke(list_url):
    """Render an element that makes the inbox list fetch itself again."""
    return render_template("inbox/_poke.html", list_url=list_url)


def render(event, audience, socket):
    """Return what `event` shows to `audience` on `socket` ("" for nothing)."""
    kind = event.get("type")
    if audience == "inbox":
        return inbox_update(event, socket) if kind in UPDATES else ""
    if (kind == "seen" and audience != "customer") or (
            kind == "typing" and event.get("who") == audience):
        return ""
    typing_name = event.get("name") if kind == "typing" and event.get("typing") else None
    if kind == "typing" and audience == "customer":
        return typing_view(audience, typing_name)
    if kind == "seen" and socket.cursor is not None and "seen_id" in event:
        return seen_view(event, socket)
    conversation = held.conversation(socket.conversation_id)
    if conversation is None:
        return ""
    if audience == "customer":
        return customer_frame(conversation, socket, event)
    staff = held.staff(socket.staff_id)
    if staff is None or not sees(staff, conversation):  # their touchpoints changed since
        return ""
    if kind == "typing":
        return typing_view(audience, typing_name)
    return staff_frame(conversation, staff, socket, event)


def customer_saw(conversation_id, message_id):
    """Record that the customer has had message `message_id` on screen."""
    Conversation.customer_saw(conversation_id, message_id)
    db.session.commit()


def mark_seen(conversation_id, message_id):
    """Record that staff have had customer message `message_id` on screen."""
    inbox_service.stamp_seen(conversation_id, message_id)
