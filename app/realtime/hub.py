"""This process's live sockets: who listens on which channel, and what each event shows them.

An event is rendered once per audience in each process, however many sockets receive it.
Staff limited to some touchpoints get only events about those touchpoints' conversations.
"""
import logging
import queue
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from app.core.presence import TYPING_SHOWN_SECONDS, LocalPresence
from app.realtime.broadcaster import RESYNC_ALL, as_channels
from app.realtime.dispatch import Dispatcher

log = logging.getLogger(__name__)
OUTBOX_LIMIT = 200
SESSIONS_ENDED = "sessions-ended"
# Not one of the codes htmx's ws extension reconnects after (1006, 1011-1013): an ended
# session's page stays closed; a reload finds the sign-in page.
SESSION_ENDED_CODE = 1008
RESUME = "resume"  # one socket's catching up, from the newest message its page holds
SHOWN_KEPT = 64
SHARED_VIEWS = ("all", "unassigned")  # inbox lists that are the same for everyone who sees them  # ids of messages recently sent on a socket: what a late commit checks


@dataclass
class Frame:
    """What a render gives a group of sockets: the HTML, work after sending it, and where the
    pages' message cursor stands once they have it (None: unchanged)."""
    html: str
    on_sent: Callable | None = None
    cursor: int | None = None
    shown: tuple = ()


class LiveSocket:
    """One browser's WebSocket: fragments queue here and one pump sends them in order."""

    def __init__(self, ws, brand_id, conversation_id=None, list_url=None, staff_id=None,
                 language="en", csrf_token=None, touchpoints=None, session_epoch=None):
        self.ws = ws
        self.brand_id, self.conversation_id = brand_id, conversation_id
        self.list_url, self.staff_id = list_url, staff_id
        # Fragments for staff carry forms: they reuse this session's CSRF token.
        self.language, self.csrf_token = language, csrf_token
        # The touchpoint ids a limited member of staff works (None: all), as they signed in.
        self.touchpoints = frozenset(touchpoints) if touchpoints is not None else None
        self.session_epoch = session_epoch
        self.outbox = queue.Queue(maxsize=OUTBOX_LIMIT)
        self.closed = False
        # The newest message id the page holds (None until it says), and the ids recently sent.
        self.cursor = None
        self.shown = deque(maxlen=SHOWN_KEPT)
        self.resumed_from = None  # the cursor a resume starts from
        self.home = None  # the channel its page lives on
        self.list_view = None  # an inbox list's (view, status)

    @classmethod
    def for_staff(cls, ws, staff, **kwargs):
        """Return a socket of `staff`: their brand, their touchpoints, their session's epoch."""
        return cls(ws, staff.brand_id, staff_id=staff.id, touchpoints=staff.touchpoint_ids,
                   session_epoch=staff.session_epoch or 0, **kwargs)

    def sees(self, event):
        """True if `event` may reach this socket: a limited person's, only their touchpoints'."""
        if self.touchpoints is None or "conversation_id" not in event:
            return True
        return event.get("touchpoint_id") in self.touchpoints

    def render_key(self, audience, event=None):
        """Sockets with equal keys see the same HTML for an event: it is rendered once."""
        if audience == "inbox":
            # Per list, touchpoint set and row state, and per person only where the view is
            # theirs ("mine", "for me", "my team"): a thousand agents of one branch on its
            # "all" list still cost one render.
            personal = self.list_view is None or self.list_view[0] not in SHARED_VIEWS
            return (audience, self.list_url, self.touchpoints, self.cursor,
                    self.staff_id if personal else None)
        # Pages that hold the same messages get the same append; one that never got a message
        # at or before its cursor (committed after a newer one) is told apart.
        late = self.late(event)
        if audience == "staff":
            return (audience, self.csrf_token, self.language, self.cursor, late)
        return (audience, self.cursor, late)

    def late(self, event):
        """Return the ids of `event`'s messages at or before the cursor that were never sent."""
        if self.cursor is None or not event:
            return ()
        return tuple(i for i in event.get("message_ids") or ()
                     if i <= self.cursor and i not in self.shown)

    def advance(self, frame):
        """Note what the page holds once `frame` has reached it."""
        if frame.cursor is not None:
            self.cursor = frame.cursor
            self.shown.extend(frame.shown)

    def send(self, html, on_sent=None):
        """Queue `html`; `on_sent` runs once it has gone out (what staff have on screen)."""
        try:
            self.outbox.put_nowait((html, on_sent))
        except queue.Full:
            # A reader this far behind resyncs on reconnect; holding more would only grow memory.
            self.close(1013, "too far behind")

    def pump(self):
        """Send queued fragments until the socket closes."""
        while not self.closed:
            item = self.outbox.get()
            if item is None:
                break
            html, on_sent = item
            try:
                self.ws.send(html)
            except Exception:  # the peer went away; the handler notices and leaves the hub
                self.closed = True
                break
            if on_sent is not None:
                try:
                    on_sent()
                except Exception:
                    log.exception("after sending to a live socket")

    def close(self, code=1000, reason=""):
        """Close once: the first reason given is the one the browser hears."""
        if self.closed:
            return
        self.closed = True
        try:
            self.ws.close(reason=code, message=reason)
        except Exception:
            pass
        try:
            self.outbox.put_nowait(None)
        except queue.Full:
            pass


class Hub:
    """Route events from the broadcaster to this process's sockets."""

    def __init__(self, broadcaster, render, delivery=nullcontext, presence=None):
        self.broadcaster = broadcaster
        self.presence = presence if presence is not None else LocalPresence()
        # (event, audience, socket) -> html, "" for nothing, or (html, run after sending)
        self.render = render
        # Entered once around all of an event's renders, given the event: they share what it
        # holds (in the app, one request context and its database session, so the
        # conversation is read once, not per audience).
        self.delivery = delivery
        self.channels = defaultdict(dict)  # channel -> {socket: audience}
        self.lock = threading.Lock()
        self.typing_timers = {}
        # Renders run on the dispatcher's threads, one conversation at a time: neither the
        # pub/sub listener nor the request that posted waits for them, what waits for a busy
        # conversation merges into one render, and no older state overtakes a newer one.
        self.dispatcher = Dispatcher(self.deliver_now)

    def publish(self, channels, event):
        """Send `event` to one channel or several: each process renders it once for all."""
        self.broadcaster.publish(as_channels(channels), event)

    def typing(self, event):
        """Publish a typing signal; staff's is also noted for the customer's page without a
        socket (the frame), the one reader of the note: a customer's is not written."""
        if event["who"] == "staff":
            self.presence.typing(event["conversation_id"], "staff", event.get("name") or "")
        self.publish(f"conversation:{event['conversation_id']}", event)

    def join(self, socket, subscriptions):
        """Subscribe `socket` to {channel: audience}; True if a member of staff just came
        online here (their first socket in this process)."""
        self.broadcaster.start(self.deliver)
        socket.home = next(iter(subscriptions))  # where its resumes queue, in order
        with self.lock:
            for channel, audience in subscriptions.items():
                self.channels[channel][socket] = audience
        arrived = False
        if socket.staff_id is not None:
            arrived = self.presence.arrive(socket.brand_id, socket.staff_id)
        threading.Thread(target=socket.pump, daemon=True, name="kulak-socket").start()
        return arrived

    def leave(self, socket):
        with self.lock:
            channels = [c for c, members in self.channels.items() if socket in members]
            for channel in channels:
                del self.channels[channel][socket]
                if not self.channels[channel]:
                    del self.channels[channel]
        if channels and socket.staff_id is not None:  # once, however often leave is called
            self.presence.leave(socket.brand_id, socket.staff_id)
        socket.close()

    def sockets(self, channels):
        """Return the (socket, audience) pairs listening on any of `channels`, each once."""
        with self.lock:
            if RESYNC_ALL in channels:
                channels = list(self.channels)
            members = {}
            for channel in channels:
                members.update(dict.fromkeys(self.channels.get(channel, {}).items()))
            return list(members)

    def count(self, prefix=""):
        with self.lock:
            return len({s for c, members in self.channels.items() if c.startswith(prefix)
                        for s in members})

    def deliver(self, channels, event):
        """Queue `event` for the render threads if a local socket listens on `channels`."""
        if event.get("type") == SESSIONS_ENDED:  # nothing to render: close at once
            self.end_sessions(event["staff_id"], event.get("epoch"), event.get("active"))
            return
        channels = as_channels(channels)
        if self.sockets(channels):
            self.dispatcher.put(channels, event)

    def end_sessions(self, staff_id, epoch, active):
        """Close this process's sockets of `staff_id` whose session no longer signs in."""
        # As the login loader decides: an inactive person, or a session of another epoch.
        with self.lock:
            ended = {socket for members in self.channels.values() for socket in members
                     if socket.staff_id == staff_id
                     and (not active or socket.session_epoch != epoch)}
        for socket in ended:
            socket.close(SESSION_ENDED_CODE, "session ended")
            self.leave(socket)
        return len(ended)

    def resume(self, socket, after):
        """Have `socket` catch up from message `after`, in order with its conversation's events."""
        self.dispatcher.put((socket.home,), {"type": RESUME, "after": after, "socket": socket})

    def deliver_now(self, channels, event):
        """Render `event` once per audience and queue it on every local socket that listens."""
        if event.get("type") == RESUME:
            socket = event["socket"]
            socket.cursor, socket.resumed_from = None, event["after"]
            members = [m for m in self.sockets(channels) if m[0] is socket]
        else:
            members = [member for member in self.sockets(channels) if member[0].sees(event)]
        if not members:
            return
        if event.get("type") == "typing" and event.get("typing"):
            self._clear_typing_later(channels, event)
        # The author's own page already shows what they did: the other side hears first.
        members.sort(key=lambda member: member[1] == event.get("author"))
        with self.delivery(event):
            self._render_and_queue(event, members)

    def _render_and_queue(self, event, members):
        rendered = {}
        for socket, audience in members:
            key = socket.render_key(audience, event)
            if key not in rendered:
                try:
                    rendered[key] = as_frame(self.render(event, audience, socket))
                except Exception:
                    log.exception("rendering %s for %s failed", event, audience)
                    rendered[key] = Frame("")
            frame = rendered[key]
            socket.advance(frame)
            # A renderer may ask for work after the send, e.g. the "seen" stamp: the page
            # first, the bookkeeping after.
            if frame.html:
                socket.send(frame.html, frame.on_sent)

    def _clear_typing_later(self, channels, event):
        key = (channels, event.get("who"))
        with self.lock:
            if (timer := self.typing_timers.pop(key, None)) is not None:
                timer.cancel()
            timer = threading.Timer(TYPING_SHOWN_SECONDS, self.deliver,
                                    args=(channels, {**event, "typing": False}))
            timer.daemon = True
            self.typing_timers[key] = timer
        timer.start()


def once(work):
    """Return `work` to run after the first of several sends, and not after the others."""
    pending = [work]

    def run():
        if pending:
            pending.pop()()
    return run


def as_frame(rendered):
    """Return a renderer's answer (a Frame, HTML, or (HTML, work after sending)) as a Frame."""
    if isinstance(rendered, Frame):
        return rendered
    html, on_sent = rendered if isinstance(rendered, tuple) else (rendered, None)
    return Frame(html, on_sent)
