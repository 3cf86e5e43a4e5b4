"""The hub renders an event once per audience per process; Redis carries it between processes."""
import threading
import time
import uuid

import redis

from app.realtime.broadcaster import InProcessBroadcaster, RedisBroadcaster
from app.realtime.hub import Hub, LiveSocket

REDIS_URL = "redis://127.0.0.1:6379/14"


class RecordingWebSocket:
    """Stands in for simple_websocket's server socket: records what the hub sends."""

    def __init__(self):
        self.sent, self.closed_with = [], None
        self.arrived = threading.Event()

    def send(self, data):
        self.sent.append(data)
        self.arrived.set()

    def close(self, reason=None, message=None):
        self.closed_with = reason


def wait_for(condition, seconds=5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_one_render_per_audience_however_many_sockets_listen():
    renders = []

    def render(event, audience, socket):
        renders.append(audience)
        return f"<p id='x'>{audience} {event['n']}</p>"

    hub = Hub(InProcessBroadcaster(), render)
    customers = [LiveSocket(RecordingWebSocket(), 1, conversation_id=7) for _ in range(100)]
    for socket in customers:
        hub.join(socket, {"conversation:7": "customer"})
    bystander = LiveSocket(RecordingWebSocket(), 1, conversation_id=8)
    hub.join(bystander, {"conversation:8": "customer"})

    hub.publish("conversation:7", {"type": "conversation", "n": 1})
    assert wait_for(lambda: all(s.ws.sent == ["<p id='x'>customer 1</p>"] for s in customers))
    assert renders == ["customer"]
    assert bystander.ws.sent == []
    for socket in customers:
        hub.leave(socket)
    assert hub.count() == 1


def test_a_reader_too_far_behind_is_closed_to_resync_instead_of_growing_memory():
    hub = Hub(InProcessBroadcaster(), lambda event, audience, socket: "<p id='x'></p>")
    socket = LiveSocket(RecordingWebSocket(), 1, conversation_id=7)
    with hub.lock:  # joined without its pump: nothing drains the queue
        hub.channels["conversation:7"][socket] = "customer"
    for _ in range(250):  # rendered and queued one by one, as a slow reader would see them
        hub.deliver_now(("conversation:7",), {"type": "conversation"})
    assert socket.closed and socket.ws.closed_with == 1013


def test_redis_carries_events_between_processes_on_one_subscription_each():
    channel_db = redis.Redis.from_url(REDIS_URL)
    received_a, received_b = [], []
    installation = f"kulak:test-{uuid.uuid4().hex}:"  # apart from anything else on this Redis
    process_a = RedisBroadcaster(REDIS_URL, prefix=installation)
    process_b = RedisBroadcaster(REDIS_URL, prefix=installation)
    process_a.start(lambda channel, event: received_a.append((channel, event)))
    process_b.start(lambda channel, event: received_b.append((channel, event)))
    assert process_a.subscribed.is_set() and process_b.subscribed.is_set()
    marker = uuid.uuid4().hex
    process_a.publish(f"conversation:{marker}", {"type": "conversation", "marker": marker})
    assert wait_for(lambda: received_b == [((f"conversation:{marker}",),
                                            {"type": "conversation", "marker": marker})])
    assert wait_for(lambda: len(received_a) == 1)
    def pattern_subscribers():
        return sum(1 for client in channel_db.client_list() if client["psub"] != "0")

    before = pattern_subscribers()
    for _ in range(50):  # every socket that joins starts the broadcaster: it subscribes once
        process_b.start(process_b.deliver)
    assert pattern_subscribers() == before


def test_installations_sharing_one_redis_do_not_hear_each_other():
    heard = []
    ours = RedisBroadcaster(REDIS_URL, prefix=f"kulak:ours-{uuid.uuid4().hex}:")
    theirs = RedisBroadcaster(REDIS_URL, prefix=f"kulak:theirs-{uuid.uuid4().hex}:")
    ours.start(lambda channel, event: heard.append(event))
    theirs.start(lambda channel, event: None)
    theirs.publish("conversation:1", {"type": "conversation", "from": "theirs"})
    ours.publish("conversation:1", {"type": "conversation", "from": "ours"})
    assert wait_for(lambda: heard == [{"type": "conversation", "from": "ours"}])


def test_the_other_side_hears_first_the_author_after():
    order = []

    def render(event, audience, socket):
        order.append(audience)
        return f"<p id='x'>{audience}</p>"

    hub = Hub(InProcessBroadcaster(), render)
    for audience in ("customer", "staff", "customer"):
        hub.join(LiveSocket(RecordingWebSocket(), 1, conversation_id=7,
                            csrf_token=audience + str(len(order))), {"conversation:7": audience})
    hub.publish("conversation:7", {"type": "message", "author": "customer"})
    assert wait_for(lambda: order == ["staff", "customer"])
    order.clear()
    hub.publish("conversation:7", {"type": "message", "author": "staff"})
    assert wait_for(lambda: order == ["customer", "staff"])


def test_an_event_never_overtakes_an_earlier_render_of_the_same_conversation():
    """The "seen" stamp published while the message still renders arrives after it."""
    slow_render_started, finish_slow_render = threading.Event(), threading.Event()

    def render(event, audience, socket):
        if event["type"] == "message":
            slow_render_started.set()
            finish_slow_render.wait(5)  # still reading the conversation without the stamp
        return f"<p id='x'>{event['type']}</p>"

    hub = Hub(InProcessBroadcaster(), render)
    customer = LiveSocket(RecordingWebSocket(), 1, conversation_id=7)
    hub.join(customer, {"conversation:7": "customer"})
    hub.publish(("conversation:7", "brand:1"), {"type": "message"})
    assert slow_render_started.wait(5)
    hub.publish("conversation:7", {"type": "seen"})
    time.sleep(0.1)
    finish_slow_render.set()
    assert wait_for(lambda: len(customer.ws.sent) == 2)
    assert customer.ws.sent == ["<p id='x'>message</p>", "<p id='x'>seen</p>"]


def test_work_a_renderer_asks_for_runs_after_the_send_and_not_for_a_dead_socket():
    log = []

    class LoggingWebSocket(RecordingWebSocket):
        def send(self, data):
            log.append(("sent", data))
            super().send(data)

    class DeadWebSocket(RecordingWebSocket):
        def send(self, data):
            raise ConnectionResetError

    hub = Hub(InProcessBroadcaster(),
              lambda event, audience, socket: ("<p id='x'></p>", lambda: log.append("after")))
    alive = LiveSocket(LoggingWebSocket(), 1, conversation_id=7)
    dead = LiveSocket(DeadWebSocket(), 1, conversation_id=8)
    hub.join(alive, {"conversation:7": "staff"})
    hub.join(dead, {"conversation:8": "staff"})
    hub.publish("conversation:7", {"type": "message"})
    hub.publish("conversation:8", {"type": "message"})
    assert wait_for(lambda: log == [("sent", "<p id='x'></p>"), "after"] and dead.closed)
    time.sleep(0.05)
    assert log == [("sent", "<p id='x'></p>"), "after"]


# --- Ended sessions: every process closes the person's sockets at once ---------------------

def end_sessions(member, deactivate=False):
    """What a password change or a deactivation does: commit, then send the signal."""
    from app import events
    from models import db
    member.end_sessions()
    member.active = not deactivate
    db.session.commit()
    events.staff_sessions_ended.send(member)


def staff_sockets(hub, members):
    """Join an inbox socket and a conversation socket per member; return them by email."""
    sockets = {}
    for member in members:
        inbox = LiveSocket.for_staff(RecordingWebSocket(), member, list_url="/inbox/")
        thread = LiveSocket.for_staff(RecordingWebSocket(), member, conversation_id=7)
        hub.join(inbox, {f"brand:{member.brand_id}": "inbox"})
        hub.join(thread, {"conversation:7": "staff"})
        sockets[member.email] = [inbox, thread]
    return sockets


def demo_staff(*names):
    from models import StaffMember, db
    return [db.session.scalar(db.select(StaffMember).filter_by(email=f"{name}@demo.example"))
            for name in names]


def test_ended_sessions_close_that_persons_sockets_so_that_htmx_does_not_reconnect(app, demo):
    hub = app.extensions["kulak_hub"]
    agent, lead = demo_staff("agent", "lead")
    sockets = staff_sockets(hub, [agent, lead])
    try:
        end_sessions(agent)  # a password change: the epoch moves on
        assert all(s.closed and s.ws.closed_with == 1008 for s in sockets[agent.email])
        assert not any(s.closed for s in sockets[lead.email])
        assert hub.count() == 2  # the agent's left the hub: no event reaches them any more
        # Signed in again with the new epoch: a later signal for another reason spares it.
        again = staff_sockets(hub, [agent])[agent.email]
        sockets["again"] = again
        hub.deliver(("staff:x",), {"type": "sessions-ended", "staff_id": agent.id,
                                   "epoch": agent.session_epoch, "active": True})
        assert not any(s.closed for s in again)
        end_sessions(agent, deactivate=True)  # deactivated: every socket of theirs closes
        assert all(s.ws.closed_with == 1008 for s in again)
        assert not any(s.closed for s in sockets[lead.email])
    finally:
        for socket in [s for group in sockets.values() for s in group]:
            hub.leave(socket)


def test_ended_sessions_reach_every_process_through_redis(app, demo, monkeypatch):
    """The signal is sent in process A; process B holds the person's sockets."""
    prefix = f"kulak:test-{uuid.uuid4().hex}:"
    render = lambda event, audience, socket: ""  # noqa: E731 - nothing to render here
    process_a = Hub(RedisBroadcaster(REDIS_URL, prefix=prefix), render)
    process_b = Hub(RedisBroadcaster(REDIS_URL, prefix=prefix), render)
    monkeypatch.setitem(app.extensions, "kulak_hub", process_a)
    agent, lead = demo_staff("agent", "lead")
    on_a = staff_sockets(process_a, [agent])
    on_b = staff_sockets(process_b, [agent, lead])
    end_sessions(agent)
    assert wait_for(lambda: all(s.ws.closed_with == 1008 for s in on_b[agent.email]))
    assert wait_for(lambda: all(s.ws.closed_with == 1008 for s in on_a[agent.email]))
    time.sleep(0.1)
    assert not any(s.closed for s in on_b[lead.email])
    assert process_b.count() == 2 and process_a.count() == 0
    for socket in on_b[lead.email]:
        process_b.leave(socket)
