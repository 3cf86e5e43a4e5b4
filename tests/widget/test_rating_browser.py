"""In Chromium against `kulak serve`: staff resolve, the guest's open page asks live, one click
answers; without script the next load asks and a plain form post answers."""
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from ..test_browser import CONVERSATION, journey, sign_in
from ..test_live import assert_clean, unique

pytestmark = pytest.mark.browser

RATING = sa.table("rating", sa.column("conversation_id"), sa.column("round"),
                  sa.column("csat"), sa.column("nps"), sa.column("comment"))


@pytest.fixture
def database(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"], poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def stored(engine, token):
    with engine.connect() as connection:
        return connection.execute(
            sa.select(RATING.c.round, RATING.c.csat, RATING.c.nps)
            .join(CONVERSATION, CONVERSATION.c.id == RATING.c.conversation_id)
            .where(CONVERSATION.c.token == token)).all()


def comment(engine, token):
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(RATING.c.comment)
            .join(CONVERSATION, CONVERSATION.c.id == RATING.c.conversation_id)
            .where(CONVERSATION.c.token == token))


def resolve_in_inbox(page, server_url, first_message):
    """The agent opens the guest's conversation from the inbox and resolves it."""
    sign_in(page, server_url, "agent@demo.example", "/inbox/?view=all&status=open")
    # Followed rather than clicked: the list refetches itself once its socket connects, and a
    # click landing during that swap may hit the row below or none (the rating is tested here).
    href = page.locator("li.row", has_text=first_message).get_by_role("link").get_attribute(
        "href")
    page.goto(server_url + href)
    page.wait_for_url(re.compile(r"/inbox/c/\d+$"))
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#conversation-header")).to_contain_text("Resolved")


def test_staff_resolve_and_the_open_page_asks_live(live_server, watch, database):
    guest, agent = watch(), watch()
    first = unique("The minibar in room 412 is empty")
    token = journey(guest.page, live_server.url, first)
    guest.page.evaluate("window.__kulak_marker = 1")
    question = guest.page.get_by_role("group",
                                      name="How satisfied are you with how we handled this?")
    expect(question).to_have_count(0)

    resolve_in_inbox(agent.page, live_server.url, first)
    expect(question).to_be_visible()  # no reload: the socket brought it
    question.get_by_role("button", name="Satisfied", exact=True).click()
    thanks = guest.page.locator("#rating .thanks")
    expect(thanks).to_contain_text("Thank you! You told us: 🙂 Satisfied.")
    expect(question.get_by_role("button", name="Satisfied", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    assert stored(database, token) == [(1, 4, None)]

    # Changing it swaps in place too; a comment is kept as typed while the page updates.
    question.get_by_role("button", name="Very satisfied").click()
    expect(thanks).to_contain_text("Very satisfied")
    guest.page.locator("#rating-comment").fill("Quick and kind")
    with guest.page.expect_response(lambda answer: answer.url.endswith("/rating")):
        guest.page.get_by_role("button", name="Send comment").click()
    expect(guest.page.locator("#rating-comment")).to_have_value("Quick and kind")
    assert stored(database, token) == [(1, 5, None)]
    assert comment(database, token) == "Quick and kind"
    assert_clean(live_server, guest)


def test_without_script_the_next_load_asks_and_a_plain_post_answers(live_server, watch,
                                                                    database):
    guest, agent = watch(js=False), watch()
    first = unique("Room 412 is too cold")
    token = journey(guest.page, live_server.url, first)
    resolve_in_inbox(agent.page, live_server.url, first)
    # The self-refreshing frame leads to the question; the page itself asks on its next load.
    frame = guest.page.frame_locator("iframe.frame")
    expect(frame.get_by_role("link", name=re.compile("How satisfied are you"))).to_be_visible()
    guest.page.reload()
    guest.page.get_by_role("button", name="Very dissatisfied").click()
    guest.page.wait_for_url(re.compile(rf"/c/{token}\?lang=en#rating$"))
    expect(guest.page.locator("#rating .thanks")).to_contain_text("😠 Very dissatisfied")
    assert stored(database, token) == [(1, 1, None)]
    assert guest.console_lines() == [] and guest.page_errors == []
