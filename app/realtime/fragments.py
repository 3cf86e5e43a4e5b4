"""What a live event shows each audience: HTML fragments swapped in by id (htmx ws)."""
from functools import partial

from flask import render_template
from flask_babel import force_locale
from sqlalchemy.orm import joinedload

from app.core.scoping import sees
from app.inbox import service as inbox_service
from app.inbox.context import conversation_context
from app.widget.satisfaction import rating_context
from models import Conversation, StaffMember, db


def customer_view(conversation, typing_name=None, with_rating=True):
    """Render the customer's message list (and who is typing, and the rating question),
    swapped in by id."""
    return _customer_view(conversation, typing_name, with_rating)[0]


def customer_resync(conversation):
    """Render the customer's fragments for a socket that (re)connects: they see it all now."""
    html, last_id = _customer_view(conversation, None, True)
    customer_saw(conversation.id, last_id)
    return html


def _customer_view(conversation, typing_name, with_rating):
    """Return (the customer's fragments, the newest message id they show)."""
    messages = conversation.messages_after(0)
    last_id = messages[-1].id if messages else 0
    # Rendered once for every page of the conversation: no client id of one page's own.
    rating = rating_context(conversation) if with_rating else {}
    with force_locale(conversation.language):
        return render_template(
            "widget/_live.html", conversation=conversation, brand=conversation.brand,
            messages=messages, last_id=last_id, oob=True,
            typing_name=typing_name, with_rating=with_rating, **rating), last_id


def staff_view(conversation, staff, typing_name=None):
    """Render a conversation's thread, header and typing line for staff."""
    return render_template("inbox/_live.html", oob=True, typing_name=typing_name,
                           **conversation_context(conversation, staff))


def staff_message_view(conversation):
    """Render what a new message changes for staff: the thread and the status line."""
    return render_template("inbox/_live_message.html", oob=True, conversation=conversation,
                           brand=conversation.brand,
                           messages=conversation.messages_after(0, internal=True))


def inbox_poke(list_url):
    """Render an element that makes the inbox list fetch itself again."""
    return render_template("inbox/_poke.html", list_url=list_url)


def render(event, audience, socket):
    """Return the HTML that `event` shows to `audience` on `socket` ("" for nothing)."""
    kind = event.get("type")
    if audience == "inbox":
        return inbox_poke(socket.list_url) if kind in ("conversation", "message") else ""
    if kind == "seen" and audience != "customer":
        return ""
    conversation = db.session.get(Conversation, socket.conversation_id, options=[
        joinedload(Conversation.brand), joinedload(Conversation.touchpoint)])
    if conversation is None:
        return ""
    typing = kind == "typing"
    if typing and event.get("who") == audience:
        return ""
    name = event.get("name") if typing and event.get("typing") else None
    if audience == "customer":
        # Only a change of the conversation (resolved, reopened) redraws the rating question:
        # a typing line or a new message leaves a half-chosen answer alone.
        html, last_id = _customer_view(conversation, name, kind == "conversation")
        if event.get("author") == "staff":
            # The reply is on the customer's open page once sent: no mail or SMS for it. The
            # fragment is rendered once for all their sockets: the first send stamps it.
            return html, once(partial(customer_saw, conversation.id, last_id))
        return html
    staff = db.session.get(StaffMember, socket.staff_id)
    if staff is None or not sees(staff, conversation):  # their touchpoints changed since
        return ""
    if typing:
        return staff_view(conversation, staff, name)
    html = (staff_message_view(conversation) if kind == "message"
            else staff_view(conversation, staff))
    if event.get("customer_message_id"):
        # Staff have this conversation open: once this is sent, the customer's new message
        # is on their screen. Stamped after the send, so it costs the delivery nothing.
        return html, partial(mark_seen, conversation.id, event["customer_message_id"])
    return html


def once(work):
    """Return `work` to run after the first of several sends, and not after the others."""
    pending = [work]

    def run():
        if pending:
            pending.pop()()
    return run


def customer_saw(conversation_id, message_id):
    """Record that the customer has had message `message_id` on screen."""
    Conversation.customer_saw(conversation_id, message_id)
    db.session.commit()


def mark_seen(conversation_id, message_id):
    """Record that staff have had customer message `message_id` on screen."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is not None:
        inbox_service.mark_seen(conversation, message_id)
