"""Real Chromium on a customer's open conversation while a CRM replies through the API: the
reply arrives live over the page's socket, as one from the inbox does; a note never does."""
import subprocess

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from ..conftest import kulak_command
from ..test_browser import CONVERSATION, journey

pytestmark = pytest.mark.browser
PREFIX = "/api/v1"


def api_token(server):
    """A read-write token of the demo brand from the CLI (its last line)."""
    done = subprocess.run(kulak_command("token", "create", "demo", "Live CRM"), env=server.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def conversation_id(server, token):
    engine = sa.create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.scalar(
                sa.select(CONVERSATION.c.id).where(CONVERSATION.c.token == token))
    finally:
        engine.dispose()


def test_api_reply_appears_live_on_the_customers_open_page(live_server, watch):
    watched = watch()
    page = watched.page
    token = journey(page, live_server.url, "The air conditioning is loud")
    messages = page.locator("#messages")
    expect(messages).to_contain_text("The air conditioning is loud")
    page.evaluate("window.__kulak_marker = 1")

    auth = {"Authorization": f"Bearer {api_token(live_server)}"}
    staff = requests.get(f"{live_server.url}{PREFIX}/staff", headers=auth, timeout=10).json()
    agent = next(s["id"] for s in staff if s["email"] == "agent@demo.example")
    url = f"{live_server.url}{PREFIX}/conversations/{conversation_id(live_server, token)}/messages"

    note = requests.post(url, headers=auth, timeout=10, json={
        "body": "Room 412 complained before", "staff_id": agent, "internal": True})
    assert note.status_code == 201, note.text
    reply = requests.post(url, headers={**auth, "Idempotency-Key": "live-1"}, timeout=10,
                          json={"body": "An engineer is on the way to 412", "staff_id": agent})
    assert reply.status_code == 201, reply.text
    assert reply.json()["author"] == "staff" and reply.json()["staff_id"] == agent

    expect(messages).to_contain_text("An engineer is on the way to 412", timeout=8_000)
    assert page.evaluate("window.__kulak_marker") == 1, "the live update reloaded the page"
    assert any("An engineer is on the way to 412" in str(frame) for frame in watched.frames)
    # The note was committed before the reply, so any frame that could carry it has come.
    assert "Room 412 complained before" not in messages.inner_text()
    assert not any("Room 412 complained before" in str(frame) for frame in watched.frames)

    retried = requests.post(url, headers={**auth, "Idempotency-Key": "live-1"}, timeout=10,
                            json={"body": "An engineer is on the way to 412", "staff_id": agent})
    assert retried.status_code == 201 and retried.json()["id"] == reply.json()["id"]
    page.reload()
    expect(messages).to_contain_text("An engineer is on the way to 412")
    assert messages.inner_text().count("An engineer is on the way to 412") == 1
    assert watched.console_lines() == [] and watched.page_errors == []
