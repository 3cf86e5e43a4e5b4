"""The customer's message log by its own URLs: the poll, the frame without script, earlier pages."""
import hashlib
from datetime import timedelta

from flask import abort, make_response, render_template, request

from app.core import transcript
from app.core.presence import current_presence
from app.core.rendering import page_or_fragment, wants_fragment
from app.core.security import allow_framing_by, private_cache
from app.core.validators import ID_MAX, bounded_id
from app.widget import bp
from app.widget.routes import _conversation_context, load_conversation
from models import Conversation, db
from models import transcript as log
from models.common import utcnow


@bp.get("/c/<token>/messages")
def messages(token):
    """Return what the page lacks after its cursor (`after`), or 204 when that is nothing."""
    conversation = load_conversation(token)
    if not wants_fragment():
        return render_template("widget/conversation.html", **_conversation_context(conversation))
    # A number no message id can be is treated as an unknown cursor: the whole list comes back.
    after = request.args.get("after", 0, type=bounded_id) or 0
    news = transcript.since(conversation, after)
    if not news["replace"] and not news["messages"]:
        return "", 204
    # Replies the customer has had on screen are not sent to them by mail or SMS.
    Conversation.customer_saw(conversation.id, news["last_id"])
    db.session.commit()
    return render_template("widget/_append.html", conversation=conversation,
                           brand=conversation.brand, **news)


def frame_etag(state, typing):
    """Return the frame's validator: everything it shows changes one of these."""
    rating_open = (state.status == "resolved" and state.resolved_at is not None
                   and utcnow() < state.resolved_at + timedelta(days=state.rating_days))
    shown = (state.newest, state.staff_seen_message_id, state.status, rating_open, state.csat,
             state.nps, state.language, request.args.get("lang", ""), typing)
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:20]


@bp.get("/c/<token>/frame")
def messages_frame(token):
    """Return the message list as a page that refreshes itself, for browsers without script;
    a refresh that would show the same answers 304 Not Modified from one query."""
    state = log.frame_state(token)
    if state is None:
        abort(404)
    # Who of staff is typing, as the live page's line shows it: kept for any process to read.
    typing = current_presence().typist(state.id, "staff")
    etag = frame_etag(state, typing)
    # The same framing policy on the 304: a cache keeps the headers a 304 brings.
    allow_framing_by(" ".join(["'self'", *state.embed_origins]))
    if request.if_none_match.contains_weak(etag):  # compressed answers carry W/"..."
        response = make_response("", 304)
    else:
        conversation = load_conversation(token)
        response = make_response(render_template("widget/messages_frame.html",
                                                 typing_name=typing,
                                                 **_conversation_context(conversation)))
    response.set_etag(etag)
    # Kept by the browser alone and asked again each time: the meta refresh revalidates it.
    private_cache(response)
    return response


@bp.get("/c/<token>/earlier")
def earlier(token):
    """Show the page of messages before `before`: a fragment for the htmx swap, else a page."""
    conversation = load_conversation(token)
    before = request.args.get("before", type=bounded_id) or ID_MAX
    return page_or_fragment("widget/earlier.html", "widget/_earlier_items.html",
                            conversation=conversation, brand=conversation.brand,
                            **transcript.earlier(conversation, before))
