"""Live updates over WebSockets: two Chromium contexts (guest and agent) and reconnect with
resync (two servers sharing Redis, and the default without it: test_live_scaleout.py)."""
import os
import re
import signal
import time
import uuid
from types import SimpleNamespace

import pytest
import simple_websocket
from playwright.sync_api import expect

from harness import clients
from harness.databases import conversation_ids

from .conftest import DEMO_PASSWORD, start_server
from .test_browser import (
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
    return conversation_ids(server.env["DATABASE_URL"], [token])[token]


def staff_session(url, email="agent@demo.example"):
    return clients.sign_in(url, email, DEMO_PASSWORD)


def staff_socket(url, agent, query):
    return simple_websocket.Client.connect(
        f"{url.replace('http://', 'ws://')}/inbox/ws?{query}",
        headers={"Cookie": clients.cookie_header(agent)})


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
    # Below the newest message, by its own id: the list is not sent again for it.
    expect(guest.locator("#message-list li#seen")).to_have_text("Seen")
    assert any(frame.startswith('<li id="seen"') and "Seen" in frame
               for frame in pair.guest.frames)
    assert_clean(live_server, pair.guest, pair.agent)


def test_inbox_list_gains_a_row_live_when_a_conversation_starts(live_server, pair):
    """The agent's list "All / Open" (filter links are plain links to this address)."""
    page, watched = pair.agent.page, pair.agent
    page.goto(f"{live_server.url}/inbox/?view=all&status=open")

    def list_socket_resynced():  # its resync has sent the list: what follows is live
        return any('id="inbox-main"' in frame for frame in watched.frames)
    wait_until(page, list_socket_resynced)
    current = page.locator("#inbox-main a[aria-current=page]")
    chosen = [re.compile(r"^All \d+$"), re.compile(r"^Open \d+$")]
    expect(current).to_have_text(chosen)
    wait_until(page, list_socket_resynced)
    page.evaluate("window.__kulak_marker = 2")
    heard_before = len(watched.frames)
    rows = page.locator("#inbox-main li.row")
    expect(rows.first).to_be_visible()
    before = rows.count()
    fresh = unique("Is breakfast still served?")
    clients.open_conversation(live_server.url, fresh)
    expect(rows.filter(has_text=fresh)).to_have_count(1)
    expect(rows).to_have_count(before + 1)
    # One row inserted, not the list again; the counts came by their own small request.
    with_row = [frame for frame in watched.frames[heard_before:] if fresh in frame]
    assert with_row and not any('id="inbox-main"' in frame for frame in with_row)
    expect(current.first).to_have_text(re.compile(rf"^All {before + 1}$"))
    expect(current).to_have_text(chosen)  # the list the agent chose, not the page's first one
    assert_clean(live_server, watched, marker=2)


# --- Reconnect: the server drops the socket, a reply is posted in the gap ------------------

@pytest.fixture(scope="module")
def own_server(tmp_path_factory, postgres_schema, htmx_installed):
    """A server of this module's own: its workers get killed and restarted."""
    server = start_server("sqlite", tmp_path_factory.mktemp("live-reconnect"), postgres_schema)
    yield server
    server.stop()


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
            for pid in own_server.worker_pids():
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
