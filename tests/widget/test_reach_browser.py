"""In Chromium against `kulak serve`: the guest leaves a phone number and asks for the link,
each form swapped in place (no reload), and the text reaches a real gateway."""
import json

import pytest
from playwright.sync_api import expect

from ..receivers import wait_for
from ..test_browser import journey
from ..test_live import assert_clean, unique

pytestmark = pytest.mark.browser


def test_the_reach_block_saves_and_sends_in_place(live_server, live_gateway, watch):
    guest = watch()
    page = guest.page
    token = journey(page, live_server.url, unique("The safe in room 412 is locked"))
    page.evaluate("window.__kulak_marker = 1")
    block = page.locator("#reach")
    expect(block).to_contain_text("So we can reach you if you leave")

    block.get_by_label("Phone number").fill("0532 123 45 67")
    block.get_by_role("button", name="Save").click()
    expect(block.locator("#reach-address-error")).to_contain_text("country code")
    block.get_by_label("Phone number").fill("+90 532 123 45 67")
    block.get_by_role("button", name="Save").click()
    expect(block).to_contain_text("We will reach you at +905321234567.")

    block.get_by_role("button", name="Send me this conversation's link").click()
    expect(block.get_by_role("status")).to_contain_text("We sent the link to +905321234567")
    assert wait_for(lambda: live_gateway.requests, 15)
    message = json.loads(live_gateway.requests[0]["body"])["message"]
    assert f"{live_server.url}/c/{token}" in message

    block.get_by_role("button", name="Stop sending me replies by text message").click()
    expect(block.get_by_role("button", name="Send me the replies I miss by text message")) \
        .to_be_visible()
    # Chromium's network line for the 422 is the only thing logged (htmx swaps it, silently).
    assert guest.console_lines() == [("error", "Failed to load resource: the server responded "
                                      "with a status of 422 (UNPROCESSABLE ENTITY)",
                                      f"{live_server.url}/c/{token}/reach")]
    guest.console.clear()
    assert_clean(live_server, guest)
