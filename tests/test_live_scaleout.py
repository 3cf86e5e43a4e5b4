"""Live updates across processes: two gunicorn servers sharing PostgreSQL and Redis, and the
in-process default without Redis."""
import json
import re
import threading
import time

import pytest
import redis
import requests
import simple_websocket
from bs4 import BeautifulSoup

from harness.clients import customer_post, open_conversation, staff_reply
from harness.databases import RedisServer, conversation_ids
from harness.servers import KulakServer, stop_all

from .conftest import DEMO_PASSWORD
from .test_browser import csrf_token
from .test_live import (
    RECONNECTING_CODES,
    conversation_id,
    frame_with,
    soon,
    staff_session,
    staff_socket,
    unique,
)
from .test_live_resume import stored_ids

# --- Scale-out: two gunicorn servers sharing PostgreSQL and Redis --------------------------

@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis server of this module's own. Pub/sub channels ignore database numbers, so on
    the shared :6379 the events of other Kulak servers (benchmarks) would mix with ours."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def redis_servers(tmp_path_factory, postgres_schema, htmx_installed, redis_url):
    """Two servers of one web process each on one schema and Redis, one secret key."""
    env = {"DATABASE_URL": postgres_schema(), "REDIS_URL": redis_url,
           "SECRET_KEY": "shared-by-both-servers", "KULAK_DEMO_PASSWORD": DEMO_PASSWORD,
           "KULAK_RATE_LIMITS": "off"}
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(KulakServer(tmp_path_factory.mktemp(f"live-{name}"), env,
                                       workers=1).start())
        yield servers
    finally:
        stop_all(servers)  # both stop at once


def pattern_subscriptions(redis_url, expected):
    """Patterns held by each Redis client that has any, once they equal `expected` (or 5 s)."""
    deadline = soon(5)  # a process subscribes from a thread of its own, just after its 1st socket
    while (found := [int(c["psub"]) for c in redis.Redis.from_url(redis_url).client_list()
                     if int(c["psub"])]) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_post_through_one_server_reaches_a_staff_socket_on_the_other(redis_servers,
                                                                        redis_url):
    a, b = redis_servers  # one web process each
    first = unique("Our table booking is missing")
    token = open_conversation(a.url, first)
    cid, agent = conversation_id(a, token), staff_session(b.url)
    sockets = [staff_socket(b.url, agent, f"conversation={cid}")]
    try:
        assert frame_with(sockets[0], first, soon(5)), "no resync on connect"
        assert pattern_subscriptions(redis_url, [1]) == [1]  # B's; A serves no socket yet
        later, deadline = unique("We are a party of six"), soon(2)
        customer_post(a.url, f"/c/{token}", later)
        assert frame_with(sockets[0], later, deadline), "B's socket missed A's post within 2 s"

        # One socket on A and twenty more on B: still one subscription per web process.
        sockets.append(staff_socket(a.url, staff_session(a.url), "view=all&status=open"))
        for n in range(20):
            sockets.append(staff_socket(b.url, agent, f"conversation={cid}" if n % 2 else
                                        "view=all&status=open"))
        for n, ws in enumerate(sockets[1:], 2):
            assert ws.receive(timeout=10), f"socket {n}: no resync on connect"
        assert pattern_subscriptions(redis_url, [1, 1]) == [1, 1]

        final, deadline = unique("Window seat if possible"), soon(2)
        customer_post(a.url, f"/c/{token}", final)
        for ws in [sockets[0], *sockets[3::2]]:  # every conversation socket on B
            assert frame_with(ws, final, deadline)
    finally:
        for ws in sockets:
            ws.close()


def test_a_password_changed_through_one_server_closes_that_persons_sockets_on_the_other(
        redis_servers):
    a, b = redis_servers
    sockets = {name: staff_socket(b.url, staff_session(b.url, f"{name}@demo.example"),
                                  "view=all&status=open") for name in ("lead", "agent")}
    try:
        for name, ws in sockets.items():
            assert ws.receive(timeout=10), f"{name}: no resync on connect"
        printed = a.kulak("staff", "reset-link", "lead@demo.example")
        link = re.search(r"http\S+/inbox/password/\S+", printed).group(0)
        assert link.startswith(a.url)
        browser, new_password = requests.Session(), unique("a brand new password")
        form = browser.get(link, timeout=10)
        changed = browser.post(link, allow_redirects=False, timeout=10, data={
            "csrf_token": csrf_token(form.text), "password": new_password,
            "confirm": new_password})
        assert changed.status_code == 303, changed.text[:300]
        with pytest.raises(simple_websocket.ConnectionClosed) as closed:
            frame_with(sockets["lead"], "nothing else may arrive", soon(5))
        # Not a code htmx's ws extension reconnects after: the page stays signed out.
        assert closed.value.reason == 1008 and closed.value.reason not in RECONNECTING_CODES
        customer_post(a.url, "/b/demo/room-412/help", unique("Is the spa open?"))
        assert frame_with(sockets["agent"], 'id="inbox-counts"', soon(5)), "the agent's went too"
    finally:
        for ws in sockets.values():
            if ws.connected:  # the lead's is closed already
                ws.close()


def test_without_redis_the_same_delivery_happens_in_process(live_server):
    assert requests.get(f"{live_server.url}/healthz", timeout=5).json()["redis"] == "not configured"
    first = unique("The heating is off")
    token = open_conversation(live_server.url, first)
    agent = staff_session(live_server.url)
    ws = staff_socket(live_server.url, agent, f"conversation={conversation_id(live_server, token)}")
    try:
        assert frame_with(ws, first, soon(5)), "no resync on connect"
        later, deadline = unique("It is getting cold"), soon(2)
        customer_post(live_server.url, f"/c/{token}", later)
        assert frame_with(ws, later, deadline)
    finally:
        ws.close()


# --- Order: concurrent posts through two processes, applied as htmx applies them -------------

ORDER_EACH = 12


class Page:
    """A page's message log as htmx keeps it: message ids in order, and its cursor."""

    def __init__(self, cursor):
        self.ids, self.cursor, self.appends, self.replaces = [], cursor, 0, 0

    def apply(self, frame):
        for element in BeautifulSoup(frame, "html.parser").find_all(recursive=False):
            swap = element.get("hx-swap-oob", "")
            if swap.startswith("beforebegin:#after-"):
                if int(swap.rsplit("-", 1)[1]) == self.cursor:  # else: no target, dropped
                    self.ids += [int(li["id"][1:]) for li in element.select("li.message")]
                    self.cursor = int(element.select("li[id^=after-]")[-1]["id"][6:])
                    self.appends += 1
            elif element.get("id") in ("message-list", "thread"):
                self.ids = [int(li["id"][1:]) for li in element.select("li.message")]
                self.cursor = int(element.select_one("li[id^=after-]")["id"][6:])
                self.replaces += 1


def hello(ws, cursor):
    ws.send(json.dumps({"after": str(cursor), "HEADERS": {}}))


@pytest.mark.server
def test_concurrent_posts_through_two_processes_append_in_order_once(redis_servers):
    a, b = redis_servers
    url = a.env["DATABASE_URL"]
    agent = staff_session(b.url)
    # The agent is online before the conversation opens, so it is theirs at once: handed out
    # on their arrival instead, it would gain a "… is answering now" line mid-test.
    online = staff_socket(b.url, agent, "view=all&status=open")
    assert online.receive(timeout=10), "no resync on connect"
    token = open_conversation(a.url, unique("Two of us at table 9"))
    cid = conversation_ids(url, [token])[token]
    page_token = csrf_token(agent.get(f"{b.url}/inbox/c/{cid}").text)
    start = stored_ids(a, cid)
    customer_ws = simple_websocket.Client.connect(
        f"{b.url.replace('http://', 'ws://')}/c/{token}/ws?hello=1")
    staff_ws = staff_socket(b.url, agent, f"conversation={cid}&hello=1")
    pages = {"customer": Page(start[-1]), "staff": Page(start[-1])}
    for ws, page in ((customer_ws, pages["customer"]), (staff_ws, pages["staff"])):
        page.ids = list(start)
        hello(ws, start[-1])
    try:
        def customer():
            for n in range(ORDER_EACH):
                customer_post(a.url, f"/c/{token}", f"guest {n}")

        def desk():
            for n in range(ORDER_EACH):
                staff_reply(agent, b.url, cid, f"desk {n}", token=page_token)
        posters = [threading.Thread(target=customer), threading.Thread(target=desk)]
        for poster in posters:
            poster.start()
        deadline = time.monotonic() + 30
        for name, ws in (("customer", customer_ws), ("staff", staff_ws)):
            page = pages[name]
            while time.monotonic() < deadline:
                frame = ws.receive(timeout=0.5)
                if frame is not None:
                    page.apply(frame)
                elif not any(p.is_alive() for p in posters) and \
                        page.ids == stored_ids(a, cid):
                    break
        stored = stored_ids(a, cid)
        assert len(stored) == len(start) + 2 * ORDER_EACH
        for name, page in pages.items():
            assert page.ids == stored, name  # each once, in order, nothing missing
            assert page.appends >= 1, name
    finally:
        customer_ws.close()
        staff_ws.close()
        online.close()


@pytest.mark.server
def test_a_page_that_says_its_cursor_gets_only_what_follows(redis_servers):
    a, b = redis_servers
    token = open_conversation(a.url, unique("Is breakfast included?"))
    cid = conversation_ids(a.env["DATABASE_URL"], [token])[token]
    first = stored_ids(a, cid)
    later = unique("And parking?")
    customer_post(a.url, f"/c/{token}", later)
    ws = simple_websocket.Client.connect(
        f"{b.url.replace('http://', 'ws://')}/c/{token}/ws?hello=1")
    try:
        hello(ws, first[-1])
        frames = []
        while (frame := ws.receive(timeout=1)) is not None:
            frames.append(frame)
        caught_up = "".join(frames)
        assert later in caught_up and f"beforebegin:#after-{first[-1]}" in caught_up
        assert f'id="m{first[0]}"' not in caught_up  # what it holds: not again
    finally:
        ws.close()


def test_staff_typing_on_one_server_shows_in_the_frame_another_serves(redis_servers):
    a, b = redis_servers
    token = open_conversation(a.url, unique("Can we bring our dog?"))
    agent = staff_session(b.url)
    ws = staff_socket(b.url, agent, f"conversation={conversation_id(a, token)}")
    try:
        assert frame_with(ws, "Can we bring our dog?", soon(5)), "no resync on connect"
        ws.send('{"HEADERS": {"HX-Trigger": "reply-body"}}')
        deadline, line = soon(5), ""
        while line == "" and time.monotonic() < deadline:
            page = requests.get(f"{a.url}/c/{token}/frame", timeout=10)
            line = BeautifulSoup(page.text, "html.parser").select_one("#typing").text
            time.sleep(0.1)
        assert line == "Ayşe Demir is typing…"  # noted in Redis by B, read by A
    finally:
        ws.close()
