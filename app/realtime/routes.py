"""WebSocket endpoints: a customer's conversation, and a member of staff's inbox or conversation.

The socket only pushes HTML; everything a person does still goes through the HTTP forms.
What arrives from the browser is a typing signal and nothing else.
"""
import io
import json
import time
from contextlib import contextmanager
from functools import partial
from urllib.parse import urlsplit

from flask import current_app, g, make_response, request, url_for
from flask.testing import EnvironBuilder
from flask_babel import force_locale, get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from wsproto.utilities import RemoteProtocolError

from app.core.errors import bad_request
from app.core.scoping import sees
from app.core.validators import bounded_id
from app.extensions import db, sock
from app.inbox.service import VIEWS
from app.realtime import bp, conversation_event
from app.realtime.fragments import render
from app.realtime.hub import LiveSocket, as_frame, once
from app.routing import service as routing
from models import Conversation, transcript

POLICY_VIOLATION = 1008
SERVICE_RESTART = 1012
# Browsers send typing at most every 2 s; this only stops a flood.
TYPING_EVERY_SECONDS = 1
# How long a page that promised to say which messages it holds has to say it.
HELLO_WAIT_SECONDS = 5


def hub():
    return current_app.extensions["kulak_hub"]


def _same_origin():
    """Refuse cross-site sockets: staff sockets ride on the session cookie."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _serve(ws, live, subscriptions, newest, typing=None, arrived=None, hello=False):
    """Join the hub, catch the page up, then read its signals until the browser goes away.

    A page that says `hello` sends the newest message id it holds as its first message, and
    gets only what comes after (one that never says gets what came after `newest`, read
    before joining, so nothing falls between); any other client gets the newest page of
    messages, as if it held none. Typing signals are published as `typing`, an event;
    `arrived` runs when the socket brings its staff online."""
    if hub().join(live, subscriptions) and arrived is not None:
        arrived()
    db.session.remove()  # hold no database connection for the socket's lifetime
    if not hello:
        hub().resume(live, 0)
    last_typing = 0.0
    try:
        while True:
            data = ws.receive(timeout=HELLO_WAIT_SECONDS if hello else None)
            if data is None:
                if hello:  # a page from before the hello: caught up from when it connected
                    hub().resume(live, newest)
                    hello = False
                continue
            fields = _signal(data)
            if fields is None:
                live.close(POLICY_VIOLATION, "only typing signals are accepted here")
                break
            if "after" in fields:
                hub().resume(live, _cursor(fields["after"]))
                hello = False
            elif typing and time.monotonic() - last_typing > TYPING_EVERY_SECONDS:
                last_typing = time.monotonic()
                hub().typing(typing)
    except BaseException:
        # Killed by a worker restart (or the peer left): 1012 tells htmx to reconnect and
        # resync. Not re-raised: gevent's handler would answer the exception with an HTTP 500
        # written onto the upgraded socket, which the browser reports as a bad frame.
        live.close(SERVICE_RESTART, "restarting")
    finally:
        hub().leave(live)


def _signal(data):
    """Return a message from the page (htmx's ws-send JSON), or None if it is not one."""
    try:
        fields = json.loads(data)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) and "HEADERS" in fields else None


def _cursor(value):
    """Return the message id a page says it holds; what no id can be means it holds nothing."""
    try:
        return bounded_id(value)
    except (TypeError, ValueError):
        return 0


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
    _serve(ws, live, {f"conversation:{conversation.id}": "customer"}, _newest(conversation),
           _typing(conversation, "customer", conversation.customer_name or ""),
           hello=_says_hello())


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
    subscriptions, typing, newest = {f"brand:{staff.brand_id}": "inbox"}, None, 0
    live.list_view = (request.args.get("view", VIEWS[0]), request.args.get("status", "open"))
    if (conversation_id := request.args.get("conversation", type=bounded_id)) is not None:
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is None or not sees(staff, conversation):  # another brand's or place's
            ws.close(reason=POLICY_VIOLATION, message="no such conversation")
            return
        live.conversation_id = conversation.id
        subscriptions = {f"conversation:{conversation.id}": "staff"}
        typing, newest = _typing(conversation, "staff", staff.name), _newest(conversation, True)
    # Coming online: what waits in their teams' queues is handed out (the resync follows), once
    # per arrival rather than on every page they open.
    _serve(ws, live, subscriptions, newest, typing,
           arrived=lambda: routing.hand_out_waiting(staff), hello=_says_hello())


def _newest(conversation, internal=False):
    newest = transcript.last(conversation.id, internal)
    return newest.id if newest else 0


def _says_hello():
    """True for a page whose first message says which messages it holds (ours: ?hello=1)."""
    return request.args.get("hello") == "1"


def _typing(conversation, who, name):
    """Return the event a typing signal on `conversation`'s page publishes."""
    return conversation_event(conversation, type="typing", who=who, name=name, typing=True)


def render_in_app(app):
    """Return the hub's renderer: each audience in its language, with its session's token.

    The hub holds one request context around all of an event's renders (`delivery`), so
    they share its session and what it has read; each render sets only what differs.
    """
    def render_event(event, audience, socket):
        if socket.csrf_token:
            g.csrf_token = socket.csrf_token
        else:
            g.pop("csrf_token", None)
        try:
            with force_locale(socket.language):
                rendered = render(event, audience, socket)
        except Exception:
            db.session.rollback()  # the next audience shares this session
            raise
        frame = as_frame(rendered)
        if frame.on_sent is not None:
            # Work for after the send, in an app context of its own: once, after the first
            # of the sockets that share this render, not after each of them.
            frame.on_sent = once(partial(_in_app_context, app, frame.on_sent))
        return frame
    return render_event


@contextmanager
def delivery(app, event):
    """What the hub enters once around an event's renders: one request context (for url_for,
    the locale and the CSRF token), built once per event rather than per audience."""
    with app.request_context(_delivery_environ(app)):
        # Renders only read. In autocommit each read is a statement of its own, as it is under
        # PostgreSQL's READ COMMITTED anyway, with no BEGIN before the first and no ROLLBACK
        # after the last: two round trips fewer for every event. A "seen" is rendered from
        # the event alone: it takes no connection. (A delivery inside a context whose session
        # is already in a transaction, as a test's, reads in that one.)
        if event.get("type") != "seen" and not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield


def _delivery_environ(app):
    """Return a WSGI environ for GET / on this app: built once, copied for each delivery
    (building a test request each time was a tenth of a delivery's CPU)."""
    if (environ := app.extensions.get("kulak_live_environ")) is None:
        builder = EnvironBuilder(app, "/")
        try:
            environ = app.extensions["kulak_live_environ"] = builder.get_environ()
        finally:
            builder.close()
    return {**environ, "wsgi.input": io.BytesIO()}


def _in_app_context(app, work):
    with app.app_context():
        work()
