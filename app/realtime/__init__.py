"""Live updates: WebSocket endpoints, this process's hub, and the broadcaster between processes."""
import hashlib
from functools import partial

from flask import Blueprint, current_app

from app import events
from app.core.presence import current_presence
from app.core.scoping import touchpoint_of
from app.realtime.hub import SESSIONS_ENDED

bp = Blueprint("realtime", __name__)


def conversation_event(conversation, **fields):
    """Return a live event about `conversation`: its touchpoint says which staff may get it."""
    return {"conversation_id": conversation.id, "brand_id": conversation.brand_id,
            "touchpoint_id": touchpoint_of(conversation), **fields}


from app.realtime import routes  # noqa: E402


def _publish_conversation(conversation, customer_message_id=None, kind="conversation",
                          author=None, message_ids=(), retagged=()):
    """Tell both channels; kind "message" means only the thread and status line changed (and
    the choices of the tags in `retagged`)."""
    hub = current_app.extensions["kulak_hub"]
    event = conversation_event(conversation, type=kind, author=author,
                               customer_message_id=customer_message_id,
                               message_ids=list(message_ids), retagged=list(retagged))
    hub.publish((f"conversation:{conversation.id}", f"brand:{conversation.brand_id}"), event)


def on_message_posted(message, changed=True, retagged=(), **_):
    customer_id = message.id if message.author_kind == "customer" else None
    if message.author_kind == "staff":  # what they were typing is sent: the frame's line goes
        current_presence().stopped_typing(message.conversation_id, "staff")
    _publish_conversation(message.conversation, customer_message_id=customer_id,
                          kind="conversation" if changed else "message",
                          author=message.author_kind, message_ids=[message.id],
                          retagged=retagged)


def on_conversation_changed(conversation, **_):
    _publish_conversation(conversation)


def on_conversation_seen(conversation_id, brand_id=None, touchpoint_id=None, seen_id=None,
                         language=None, **_):
    # What the customer's "Seen" line needs comes along: their pages render it without a read.
    current_app.extensions["kulak_hub"].publish(f"conversation:{conversation_id}", {
        "conversation_id": conversation_id, "brand_id": brand_id,
        "touchpoint_id": touchpoint_id, "type": "seen", "seen_id": seen_id,
        "language": language})


def on_staff_sessions_ended(staff, **_):
    """Have every process close the person's sockets whose session no longer signs in."""
    current_app.extensions["kulak_hub"].publish(f"staff:{staff.id}", {
        "type": SESSIONS_ENDED, "staff_id": staff.id, "epoch": staff.session_epoch or 0,
        "active": bool(staff.active)})


def init_app(app):
    from app.core.presence import make_presence
    from app.realtime.broadcaster import make_broadcaster
    from app.realtime.hub import Hub

    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25,
                                                  "max_message_size": 16 * 1024})
    # Processes on the same database are one installation and share its live channels.
    installation = hashlib.sha256(app.config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12]
    presence = make_presence(app.config["REDIS_URL"], f"kulak:{installation}:")
    app.extensions["kulak_presence"] = presence
    app.extensions["kulak_hub"] = Hub(
        make_broadcaster(app.config["REDIS_URL"], installation), routes.render_in_app(app),
        delivery=partial(routes.delivery, app), presence=presence)
    events.message_posted.connect(on_message_posted)
    events.conversation_started.connect(on_conversation_changed)
    events.conversation_changed.connect(on_conversation_changed)
    events.conversation_seen.connect(on_conversation_seen)
    events.staff_sessions_ended.connect(on_staff_sessions_ended)
