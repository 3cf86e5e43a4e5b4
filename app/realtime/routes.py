"""WebSocket endpoints: a customer's conversation, and a member of staff's inbox or conversation.

The socket only pushes HTML; everything a person does still goes through the HTTP forms.
What arrives from the browser is a typing signal and nothing else.
"""
import json
import time
from functools import partial
from urllib.parse import urlsplit

from flask import current_app, g, make_response, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from wsproto.utilities import RemoteProtocolError

from app.core.errors import bad_request
from app.core.scoping import sees
from app.core.validators import bounded_id
from app.extensions import db, sock
from app.inbox.service import VIEWS
from app.realtime import bp, conversation_event
from app.realtime.fragments import customer_resync, inbox_poke, render, staff_view
from app.realtime.hub import LiveSocket
from app.routing import service as routing
from models import Conversation

POLICY_VIOLATION = 1008
SERVICE_RESTART = 1012
# Browsers send typing at most every 2 s; this only stops a flood.
TYPING_EVERY_SECONDS = 1


def hub():
    return current_app.extensions["kulak_hub"]


def _same_origin():
    """Refuse cross-site sockets: staff sockets ride on the session cookie."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _serve(ws, live, subscriptions, resync, typing=None, arrived=None):
    """Join the hub, resync the page, then read typing signals (published as `typing`, an
    event) until the browser goes away; `arrived` runs when it brings its staff online."""
    if hub().join(live, subscriptions) and arrived is not None:
        arrived()
    # Rendered after joining, so no event falls between the resync and the subscription.
    live.send(resync())
    db.session.remove()  # hold no database connection for the socket's lifetime
    last_typing = 0.0
    try:
        while True:
            data = ws.receive()
            if data is None:
                continue
            try:
                fields = json.loads(data)
            except ValueError:
                fields = None
            if not isinstance(fields, dict) or "HEADERS" not in fields:
                live.close(POLICY_VIOLATION, "only typing signals are accepted here")
                break
            if typing and time.monotonic() - last_typing > TYPING_EVERY_SECONDS:
                last_typing = time.monotonic()
                hub().publish(f"conversation:{live.conversation_id}", typing)
    except BaseException:
        # Killed by a worker restart (or the peer left): 1012 tells htmx to reconnect and
        # resync. Not re-raised: gevent's handler would answer the exception with an HTTP 500
        # written onto the upgraded socket, which the browser reports as a bad frame.
        live.close(SERVICE_RESTART, "restarting")
    finally:
        hub().leave(live)


@bp.errorhandler(RemoteProtocolError)
def refused_handshake(error):
    """Answer a handshake wsproto refuses (a wrong Sec-WebSocket-Version, no Upgrade) with 400."""
    response = make_response(bad_request(error))
    # The headers wsproto suggests, e.g. the version it speaks, so a client can retry with it.
    for name, value in getattr(error.event_hint, "headers", None) or ():
        response.headers[name.decode()] = value.decode()
    return response


@sock.route("/c/<token>/ws", bp=bp)
def customer_socket(ws, token):
    conversation = Conversation.by_token(token)
    if conversation is None:
        ws.close(reason=POLICY_VIOLATION, message="unknown conversation")
        return
    live = LiveSocket(ws, conversation.brand_id, conversation_id=conversation.id)
    _serve(ws, live, {f"conversation:{conversation.id}": "customer"},
           lambda: customer_resync(conversation), _typing(conversation, "customer",
                                                        conversation.customer_name or ""))


@sock.route("/inbox/ws", bp=bp)
def staff_socket(ws):
    if not current_user.is_authenticated or not _same_origin():
        ws.close(reason=POLICY_VIOLATION, message="sign in first")
        return
    staff = current_user._get_current_object()
    # The page passes the language it shows as ?lang=: fragments and the list it refetches
    # come in that one, whatever the person's profile or browser says meanwhile.
    language = str(get_locale())
    live = LiveSocket.for_staff(
        ws, staff, language=language, csrf_token=generate_csrf(),
        list_url=url_for("inbox.index", view=request.args.get("view", VIEWS[0]),
                         status=request.args.get("status", "open"), lang=language))
    subscriptions, typing = {f"brand:{staff.brand_id}": "inbox"}, None
    resync = partial(inbox_poke, live.list_url)
    if (conversation_id := request.args.get("conversation", type=bounded_id)) is not None:
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is None or not sees(staff, conversation):  # another brand's or place's
            ws.close(reason=POLICY_VIOLATION, message="no such conversation")
            return
        live.conversation_id = conversation.id
        subscriptions = {f"conversation:{conversation.id}": "staff"}
        resync = partial(staff_view, conversation, staff)
        typing = _typing(conversation, "staff", staff.name)
    # Coming online: what waits in their teams' queues is handed out (the resync follows), once
    # per arrival rather than on every page they open.
    _serve(ws, live, subscriptions, resync, typing,
           arrived=lambda: routing.hand_out_waiting(staff))


def _typing(conversation, who, name):
    """Return the event a typing signal on `conversation`'s page publishes."""
    return conversation_event(conversation, type="typing", who=who, name=name, typing=True)


def render_in_app(app):
    """Return the hub's renderer: a request context per audience, for its language and token.

    The hub holds one app context around an event's renders, so they share its session.
    """
    def render_event(event, audience, socket):
        with app.test_request_context("/", headers={"Accept-Language": socket.language}):
            if socket.csrf_token:
                g.csrf_token = socket.csrf_token
            try:
                rendered = render(event, audience, socket)
            except Exception:
                db.session.rollback()  # the next audience shares this session
                raise
        if isinstance(rendered, tuple):  # (html, work for after the send): give it the app
            html, after_send = rendered
            return html, partial(_in_app_context, app, after_send)
        return rendered
    return render_event


def _in_app_context(app, work):
    with app.app_context():
        work()
