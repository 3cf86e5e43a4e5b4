"""A long conversation over a dropped socket: the page shows each message exactly once.

The page holds the newest 50 messages; its socket drops while both sides post; on reconnect it
says which message it holds last and gets only what it lacks. Then the page is compared with
the database, message by message.
"""
import os
import signal
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from harness.databases import conversation_ids

from .conftest import start_server
from .test_browser import TIMEOUT_MS, Watched, csrf_token
from .test_live import journey, staff_session, unique, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.server]
SEEDED = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory, postgres_schema, htmx_installed):
    """A server of this module's own on PostgreSQL: its worker gets killed and restarted."""
    server = start_server("postgresql", tmp_path_factory.mktemp("live-resume"), postgres_schema)
    yield server
    server.stop()


def shown_ids(page):
    return [int(i[1:]) for i in page.eval_on_selector_all(
        "#message-list li.message", "items => items.map(li => li.id)")]


def stored_ids(server, conversation_id):
    engine = sa.create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return list(connection.scalars(sa.text(
                "SELECT id FROM message WHERE conversation_id = :c AND NOT internal ORDER BY id"),
                {"c": conversation_id}))
    finally:
        engine.dispose()


def answered(server, path):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(server.url + path, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def test_a_dropped_socket_resumes_from_the_last_message_the_page_holds(server, chromium):
    guest = Watched(chromium)
    page = guest.page
    try:
        token = journey(page, server.url, unique("We are staying three nights"))
        conversation_id = conversation_ids(server.env["DATABASE_URL"], [token])[token]
        agent = staff_session(server.url)
        thread = agent.get(f"{server.url}/inbox/c/{conversation_id}", timeout=20)
        customer = requests.Session()
        for n in range(SEEDED // 2):  # both sides, while the page is open: appended live
            assert customer.post(f"{server.url}/c/{token}", allow_redirects=False, timeout=20, data={
                "body": f"Guest line {n}", "client_id": uuid.uuid4().hex}).status_code == 303
            assert agent.post(thread.url + "/reply", timeout=20, data={
                "csrf_token": csrf_token(thread.text), "body": f"Desk line {n}"}).ok
        wait_until(page, lambda: shown_ids(page) == stored_ids(server, conversation_id))

        page.reload()  # a first paint of a long conversation: the newest 50, and a link
        assert len(shown_ids(page)) == 50 and shown_ids(page) == stored_ids(
            server, conversation_id)[-50:]
        expect(page.get_by_role("link", name="Earlier messages")).to_be_visible()
        opened = len(guest.sockets)
        wait_until(page, lambda: guest.frames)
        page.evaluate("htmx.config.wsReconnectDelay = () => 4000")  # post in the gap
        for pid in server.worker_pids():
            os.kill(pid, signal.SIGKILL)
        assert answered(server, "/healthz")
        gap = [unique("Guest in the gap"), unique("Desk in the gap")]
        customer.post(f"{server.url}/c/{token}", allow_redirects=False, timeout=20,
                      data={"body": gap[0], "client_id": uuid.uuid4().hex})
        agent.post(thread.url + "/reply", timeout=20,
                   data={"csrf_token": csrf_token(thread.text), "body": gap[1]})
        page.locator("#body").fill(unique("Typed on the page while cut off"))
        page.get_by_role("button", name="Send").click()

        wait_until(page, lambda: len(guest.sockets) == opened + 1, 30_000)
        stored = stored_ids(server, conversation_id)
        wait_until(page, lambda: shown_ids(page) == stored[-53:], 20_000)
        for text in gap:
            expect(page.locator("#message-list li.message", has_text=text)).to_have_count(1)
        # The socket's first message said what the page held; the server sent what came after.
        assert sum('id="message-list"' in frame for frame in guest.frames) == 0

        page.get_by_role("link", name="Earlier messages").click()
        expect(page.locator("#message-list li.message")).to_have_count(len(stored),
                                                                    timeout=TIMEOUT_MS)
        assert shown_ids(page) == stored
        assert guest.page_errors == [] and guest.console_lines() == []
    finally:
        guest.context.close()
