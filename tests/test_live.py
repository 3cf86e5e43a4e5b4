"""Live updates over WebSockets: two Chromium contexts (guest and agent) and reconnect with
resync (two servers sharing Redis, and the default without it: test_live_scaleout.py)."""
import os
import re
import signal
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import simple_websocket
import sqlalchemy as sa
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, start_server
from .test_browser import (
    CONVERSATION,
    TIMEOUT_MS,
    Watched,
    csrf_token,
    journey,
    origin,
    sign_in,
)

RECONNECTING_CODES = (1006, 1011, 1012, 1013)  # the only ones htmx-ext-ws reconnects after


def unique(text):
    return f"{text} {uuid.uuid4().hex[:8]}"


def conversation_id(server, token):
    engine = sa.create_engine(server.env["DATABASE_URL"], poolclass=sa.NullPool)
    with engine.connect() as connection:
        return connection.scalar(sa.select(CONVERSATION.c.id).where(CONVERSATION.c.token == token))


def customer_post(url, path, body):
    """Post a customer form as a browser without script does; return the redirect target."""
    answer = requests.post(url + path, data={"body": body, "lang": "en"},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["Location"]


def start_conversation(url, body):
    """Open a conversation at room 412 (the survey is optional); return its token."""
    return customer_post(url, "/b/demo/room-412/help", body).rsplit("/", 1)[1]


def staff_session(url, email="agent@demo.example"):
    agent = requests.Session()
    login = agent.get(f"{url}/inbox/login", timeout=10)
    done = agent.post(f"{url}/inbox/login", timeout=10, data={
        "csrf_token": csrf_token(login.text), "email": email, "password": DEMO_PASSWORD})
    assert done.status_code == 200 and "/inbox/login" not in done.url, done.text[:300]
    return agent


def staff_socket(url, agent, query):
    cookie = "; ".join(f"{name}={value}" for name, value in agent.cookies.items())
    return simple_websocket.Client.connect(
        f"{url.replace('http://', 'ws://')}/inbox/ws?{query}", headers={"Cookie": cookie})


def frame_with(ws, text, deadline):
    """Return the first frame containing `text` that arrives before `deadline`, else None."""
    while (left := deadline - time.monotonic()) > 0:
        frame = ws.receive(timeout=left)
        if frame is not None and text in frame:
            return frame
    return None


def soon(seconds):
    return time.monotonic() + seconds


def wait_until(page, condition, ms=TIMEOUT_MS):
    """Let Playwright deliver events until `condition()` holds; fail after `ms`."""
    deadline = soon(ms / 1000)
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def assert_clean(server, *watched, marker=1):
    """No reload (the window marker survived), no console or page error, one origin only."""
    for w in watched:
        assert w.page.evaluate("window.__kulak_marker") == marker, "the page reloaded"
        assert w.console_lines() == [] and w.page_errors == []
        assert {origin(r.url) for r in w.requests} == {server.url}
        assert {origin(u.replace("ws://", "http://", 1)) for u in w.sockets} <= {server.url}


# --- Two browser contexts: guest and agent -------------------------------------------------

@pytest.fixture(scope="module")
def pair(live_server, chromium):
    """A guest on their conversation page and the agent on the same conversation, JS on."""
    guest, agent = Watched(chromium), Watched(chromium)
    first = unique("The kettle in room 412 is broken")
    journey(guest.page, live_server.url, first)
    page = agent.page
    sign_in(page, live_server.url, "agent@demo.example", "/inbox/?view=all&status=open")
    page.locator("li.row", has_text=first).get_by_role("link").click()
    page.wait_for_url(re.compile(r"/inbox/c/\d+$"))
    expect(page.locator("#thread")).to_contain_text(first)
    for w in (guest, agent):
        w.page.evaluate("window.__kulak_marker = 1")
    yield SimpleNamespace(guest=guest, agent=agent)
    guest.context.close()
    agent.context.close()


def test_a_message_sent_on_either_side_appears_live_on_the_other(live_server, pair):
    guest, agent = pair.guest.page, pair.agent.page
    question = unique("Could you send someone up?")
    guest.locator("#body").fill(question)
    guest.get_by_role("button", name="Send").click()
    expect(agent.locator("#thread li.customer", has_text=question)).to_have_count(1)

    answer = unique("A technician is on the way")
    agent.locator("#reply-body").fill(answer)
    agent.get_by_role("button", name="Send reply").click()
    expect(guest.locator("#messages li.staff", has_text=answer)).to_have_count(1)
    expect(agent.locator("#thread li.staff", has_text=answer)).to_have_count(1)
    assert_clean(live_server, pair.guest, pair.agent)


def test_typing_shows_on_the_other_side_then_clears(live_server, pair):
    guest, agent = pair.guest.page, pair.agent.page
    # Both type for about three seconds, as people do: signals go out at most every 2 s.
    for letter in "Let me check that":
        key = "Space" if letter == " " else letter
        agent.locator("#reply-body").press(key)
        guest.locator("#body").press(key)
        guest.wait_for_timeout(150)
    expect(guest.locator("#typing")).to_have_text("Ayşe Demir is typing…")
    # This customer gave no name: staff must still learn that the customer is typing.
    expect(agent.locator("#typing")).to_contain_text("is typing…")
    expect(agent.locator("#typing")).not_to_contain_text("Ayşe Demir")
    expect(guest.locator("#typing")).to_have_text("", timeout=12_000)
    expect(agent.locator("#typing")).to_have_text("", timeout=12_000)
    assert_clean(live_server, pair.guest, pair.agent)


def test_seen_appears_once_staff_have_the_conversation_open(live_server, pair):
    guest = pair.guest.page
    latest = unique("One more thing: the window is stuck")
    guest.locator("#body").fill(latest)
    guest.get_by_role("button", name="Send").click()
    expect(pair.agent.page.locator("#thread li.customer", has_text=latest)).to_have_count(1)
    mine = guest.locator("#messages li.customer")
    expect(mine.filter(has_text=latest)).to_contain_text("Seen")
    expect(mine.filter(has_text="Seen")).to_have_count(1)  # only the newest carries it
    assert_clean(live_server, pair.guest, pair.agent)


def test_inbox_list_gains_a_row_live_when_a_conversation_starts(live_server, pair):
    """The agent's list "All / Open" (filter links are plain links to this address)."""
    page, watched, fetched = pair.agent.page, pair.agent, []
    page.on("requestfinished", lambda r: r.headers.get("hx-request") and fetched.append(r.url))
    page.goto(f"{live_server.url}/inbox/?view=all&status=open")

    def list_socket_resynced():  # its resync has refreshed the list: what follows is live
        return any(url.endswith("/inbox/?" + watched.sockets[-1].split("?")[1])
                   for url in fetched)
    wait_until(page, list_socket_resynced)
    current = page.locator("#inbox-main a[aria-current=page]")
    chosen = [re.compile(r"^All \d+$"), re.compile(r"^Open \d+$")]
    expect(current).to_have_text(chosen)
    wait_until(page, list_socket_resynced)
    page.evaluate("window.__kulak_marker = 2")
    rows = page.locator("#inbox-main li.row")
    expect(rows.first).to_be_visible()
    before = rows.count()
    fresh = unique("Is breakfast still served?")
    start_conversation(live_server.url, fresh)
    expect(rows.filter(has_text=fresh)).to_have_count(1)
    expect(rows).to_have_count(before + 1)
    expect(current).to_have_text(chosen)  # the list the agent chose, not the page's first one
    assert_clean(live_server, watched, marker=2)


# --- Reconnect: the server drops the socket, a reply is posted in the gap ------------------

@pytest.fixture(scope="module")
def own_server(tmp_path_factory, postgres_schema, htmx_installed):
    """A server of this module's own: its workers get killed and restarted."""
    server = start_server("sqlite", tmp_path_factory.mktemp("live-reconnect"), postgres_schema)
    yield server
    server.stop()


def worker_pids(server):
    master = server.process.pid
    return [int(pid) for pid in
            Path(f"/proc/{master}/task/{master}/children").read_text().split()]


@pytest.mark.parametrize("how", ["worker-crash", "graceful-restart"])
def test_page_resyncs_after_the_server_drops_its_socket(own_server, chromium, how):
    guest = Watched(chromium)
    page, sockets = guest.page, []

    def on_socket(ws):
        sockets.append(record := SimpleNamespace(frames=[], closed=False))
        ws.on("framereceived", lambda frame: record.frames.append(frame))
        ws.on("close", lambda _: setattr(record, "closed", True))
    page.on("websocket", on_socket)
    try:
        token = journey(page, own_server.url, unique("Is the pool open?"))
        wait_until(page, lambda: len(sockets) == 1 and sockets[0].frames)
        page.evaluate("""() => {
            Object.assign(window, {__kulak_marker: 1, __closes: [], __connecting: []});
            document.body.addEventListener('htmx:wsClose',
                e => window.__closes.push(e.detail.event.code));
            document.body.addEventListener('htmx:wsConnecting',
                () => window.__connecting.push(Date.now()));
            // Hold the first reconnect for 12 s (default: 0-1 s, jittered) to post in the gap.
            htmx.config.wsReconnectDelay = () => 12000;
        }""")
        agent = staff_session(own_server.url)
        thread = agent.get(f"{own_server.url}/inbox/c/{conversation_id(own_server, token)}")

        if how == "worker-crash":  # the browser sees the TCP connection vanish
            for pid in worker_pids(own_server):
                os.kill(pid, signal.SIGKILL)
        else:  # a deploy: gunicorn replaces its workers gracefully
            os.kill(own_server.process.pid, signal.SIGHUP)
        wait_until(page, lambda: sockets[0].closed, 20_000)
        codes = page.evaluate("window.__closes")
        assert codes and codes[0] in RECONNECTING_CODES, (
            f"the server closed the socket with {codes}: htmx-ext-ws reconnects only after "
            f"{RECONNECTING_CODES}, so this page would stay deaf to live updates")

        reply = unique("Yes, until 22:00")
        sent = agent.post(thread.url + "/reply", timeout=20,
                          data={"csrf_token": csrf_token(thread.text), "body": reply})
        assert sent.status_code == 200 and reply in sent.text
        posted_ms = time.time() * 1000
        wait_until(page, lambda: len(sockets) == 2 and sockets[1].frames, 40_000)
        assert posted_ms < page.evaluate("window.__connecting[0]"), "posted after reconnecting"

        expect(page.locator("#messages li", has_text=reply)).to_have_count(1)
        assert any(reply in frame for frame in sockets[1].frames), "not sent by the resync"
        expect(page.locator("#messages li.customer")).to_have_count(1)
        assert_clean(own_server, guest)
    finally:
        guest.context.close()
