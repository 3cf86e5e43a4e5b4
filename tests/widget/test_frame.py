"""The message list without script: a self-refreshing frame that answers 304 when nothing changed,
and what a page with script on does when htmx is not installed on the server."""
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from bs4 import BeautifulSoup

from app.core import assets
from harness import clients

from ..test_live import conversation_id, frame_with, soon, staff_session, staff_socket


def frame(url, token, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    return requests.get(f"{url}/c/{token}/frame", headers=headers, timeout=10)


@pytest.mark.server
def test_a_refresh_with_nothing_new_is_304_and_any_change_is_200(live_server):
    url = live_server.url
    token = clients.open_conversation(url, f"Is the sauna open? {uuid.uuid4().hex[:6]}")
    first = frame(url, token)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    same = frame(url, token, first.headers["ETag"])
    assert same.status_code == 304 and same.content == b""
    # The same validator (weak on a compressed answer, whose bytes depend on the encoding).
    assert same.headers["ETag"].removeprefix("W/") == first.headers["ETag"].removeprefix("W/")

    clients.customer_post(url, f"/c/{token}", "And until when?")  # a new message
    newer = frame(url, token, first.headers["ETag"])
    assert newer.status_code == 200 and "And until when?" in newer.text
    engine = sa.create_engine(live_server.env["DATABASE_URL"], poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        cid = connection.scalar(sa.text("SELECT id FROM conversation WHERE token = :t"),
                                {"t": token})
    engine.dispose()
    staff_session(url).get(f"{url}/inbox/c/{cid}", timeout=10)  # staff have seen it
    seen = frame(url, token, newer.headers["ETag"])
    assert seen.status_code == 200
    assert BeautifulSoup(seen.text, "html.parser").select_one("#seen").text == "Seen"
    assert frame(url, token, seen.headers["ETag"]).status_code == 304
    assert frame(url, token, '"something else"').status_code == 200


def typing_line(answer):
    return BeautifulSoup(answer.text, "html.parser").select_one("#typing").text


@pytest.mark.server
def test_the_frame_shows_staff_typing_until_their_reply_is_sent(live_server):
    url = live_server.url
    token = clients.open_conversation(url, f"Can I check out late? {uuid.uuid4().hex[:6]}")
    quiet = frame(url, token)
    assert typing_line(quiet) == ""
    agent = staff_session(url)
    ws = staff_socket(url, agent, f"conversation={conversation_id(live_server, token)}")
    try:
        assert frame_with(ws, "Can I check out late?", soon(5)), "no resync on connect"
        ws.send('{"HEADERS": {"HX-Trigger": "reply-body"}}')  # htmx's ws-send of a keystroke
        deadline, typing = soon(5), quiet
        # Its "Seen" may change the frame first: the socket's resync put the message on screen.
        while (answer := frame(url, token, typing.headers["ETag"])).status_code == 304 or \
                not typing_line(answer):
            typing = answer if answer.status_code == 200 else typing
            assert time.monotonic() < deadline, "the frame never showed the typing line"
            time.sleep(0.1)
        typing = answer
        assert typing_line(typing) == "Ayşe Demir is typing…"
        assert frame(url, token, typing.headers["ETag"]).status_code == 304
        clients.staff_reply(agent, url, conversation_id(live_server, token), "Until 2 pm, yes")
        replied = frame(url, token, typing.headers["ETag"])
        assert replied.status_code == 200 and typing_line(replied) == ""
        assert "Until 2 pm, yes" in replied.text
    finally:
        ws.close()


def test_without_htmx_on_the_server_a_page_with_script_shows_the_frame(client, demo):
    answer = client.post("/b/demo/room-412/help", data={
        "body": "No towels", "client_id": uuid.uuid4().hex, "lang": "en"})
    token = answer.headers["Location"].rsplit("/c/", 1)[1].split("?")[0]
    page = BeautifulSoup(client.get(f"/c/{token}").get_data(as_text=True), "html.parser")
    assert not assets.all_installed(assets.instance_vendor_dir(client.application))
    # Not inside <noscript>: with script on but no htmx, the frame refreshes the list.
    iframe = page.select_one("iframe.frame")
    assert iframe is not None and iframe.find_parent("noscript") is None
    sheet = page.select_one('link[href*="noscript.css"]')
    assert sheet is not None and sheet.find_parent("noscript") is None
    assert page.select_one("[ws-connect]") is None and page.select_one("script") is None
