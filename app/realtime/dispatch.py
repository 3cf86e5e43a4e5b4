"""Hand live events to the hub on a few threads: one conversation at a time, merged while waiting.

A live fragment shows a conversation's state as the database has it when it is rendered, not
the change one event made. So events for a conversation that wait behind a render can merge
into one: under load a busy process renders each conversation once per round instead of once
per message. Conversations render side by side, but each one's events in order, so an older
state is never sent after a newer one.
"""
import itertools
import logging
import threading

log = logging.getLogger(__name__)
RENDER_THREADS = 4
_unmergeable = itertools.count()


def merge_class(event):
    """Return what `event` may merge with: events of one class show the same fragments."""
    kind = event.get("type")
    if kind in ("message", "conversation"):
        return "update"
    if kind == "seen":
        return "seen"
    if kind == "typing":
        return ("typing", event.get("who"))
    return ("once", next(_unmergeable))


def merged(earlier, later):
    """Return one event that shows what `earlier` and then `later` show."""
    both_messages = earlier.get("type") == later.get("type") == "message"
    ids = [e["customer_message_id"] for e in (earlier, later) if e.get("customer_message_id")]
    authors = {earlier.get("author"), later.get("author")}
    posted = sorted({*(earlier.get("message_ids") or ()), *(later.get("message_ids") or ())})
    retagged = sorted({*(earlier.get("retagged") or ()), *(later.get("retagged") or ())})
    # A "conversation" event redraws the whole header, which covers a message's thread.
    return {**later, "type": "message" if both_messages else "conversation",
            "customer_message_id": max(ids) if ids else None, "message_ids": posted,
            "author": authors.pop() if len(authors) == 1 else None,
            **({"retagged": retagged} if retagged else {})}


class Dispatcher:
    """Queue (channels, event) pairs per conversation and deliver them on RENDER_THREADS threads."""

    def __init__(self, deliver, threads=RENDER_THREADS):
        self.deliver = deliver
        self.threads = threads
        self.waiting = {}  # key -> {merge class: (channels, event)}, in arrival order
        self.busy = set()  # keys a thread is delivering now
        self.ready = threading.Condition()
        self.started = False

    def put(self, channels, event):
        """Queue `event` for `channels`, merged into what waits for the same conversation."""
        key = channels[0]  # the conversation's channel comes first
        with self.ready:
            group = self.waiting.setdefault(key, {})
            cls = merge_class(event)
            if cls == "update" and cls in group:
                earlier_channels, earlier = group[cls]
                channels = tuple(dict.fromkeys(earlier_channels + tuple(channels)))
                event = merged(earlier, event)
            group[cls] = (tuple(channels), event)
            if not self.started:
                self._start()
            self.ready.notify()

    def _start(self):
        self.started = True
        for number in range(self.threads):
            threading.Thread(target=self._run, daemon=True,
                             name=f"kulak-live-{number}").start()

    def _take(self):
        """Wait for a conversation no thread is delivering; return (key, its events)."""
        with self.ready:
            while True:
                key = next((k for k in self.waiting if k not in self.busy), None)
                if key is not None:
                    self.busy.add(key)
                    return key, list(self.waiting.pop(key).values())
                self.ready.wait()

    def _run(self):
        while True:
            key, events = self._take()
            try:
                for channels, event in events:
                    try:
                        self.deliver(channels, event)
                    except Exception:  # one bad event must not stop this thread
                        log.exception("live event %s on %s failed", event, channels)
            finally:
                with self.ready:
                    self.busy.discard(key)
                    if key in self.waiting:  # what came in meanwhile: another thread takes it
                        self.ready.notify()
