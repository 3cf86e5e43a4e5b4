"""Real Chromium against a real `kulak serve`: the admin builds a survey (htmx moves a question in
place), previews it, gives it to Table 7, and a customer there answers it."""
import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from ..test_browser import option, sign_in

pytestmark = pytest.mark.browser

TOUCHPOINT = sa.table("touchpoint", sa.column("id"), sa.column("slug"), sa.column("survey_id"))
SURVEY = sa.table("survey", sa.column("id"), sa.column("name"))
RESPONSE = sa.table("survey_response", sa.column("id"), sa.column("survey_id"))
ANSWER = sa.table("answer", sa.column("response_id"), sa.column("number"), sa.column("text"))


@pytest.fixture
def database(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"], poolclass=sa.NullPool)
    yield engine
    # live_server is shared by the session: Table 7 goes back to the brand's default survey.
    with engine.begin() as connection:
        connection.execute(TOUCHPOINT.update().where(TOUCHPOINT.c.slug == "table-7")
                           .values(survey_id=None))
    engine.dispose()


def add_question(page, kind, english, turkish, choices=None, required=False):
    form = page.locator("#question-form")
    form.get_by_label("Kind of question").select_option(label=kind)
    form.get_by_label("Question in English").fill(english)
    form.get_by_label("Question in Turkish").fill(turkish)
    if choices:
        form.get_by_label("Choices, one per line").fill(choices)
    if required:
        form.get_by_label("Customers must answer it").check()
    form.get_by_role("button", name="Add the question").click()
    expect(page.get_by_role("status").filter(has_text="Question added.")).to_be_visible()


def legends(page):
    return page.locator("form.survey legend").all_inner_texts()


def refused_by_the_browser(page):
    """Continue without the required rating: the browser itself keeps the form (the server's
    422 for browsers that do not check is tested in test_surveys.py)."""
    url = page.url
    assert not page.locator("form.survey").evaluate("form => form.checkValidity()")
    page.get_by_role("button", name="Continue").click()
    rating = page.get_by_role("group", name="How was your meal?").get_by_role("radio").first
    assert rating.evaluate("radio => radio.validity.valueMissing")
    assert page.url == url


def test_admin_builds_previews_and_a_customer_answers(live_server, watch, database):
    name = f"Dinner {uuid.uuid4().hex[:6]}"
    admin = watch()
    page = admin.page
    sign_in(page, live_server.url, "admin@demo.example", "/admin/surveys")

    page.locator("#new-survey").get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create the survey").click()
    page.wait_for_url(re.compile(r"/admin/surveys/\d+$"))
    expect(page.locator("#questions")).to_contain_text(
        "This survey has no question yet: customers skip straight to “How can we help?”.")
    add_question(page, "Single choice", "What brings you here?", "Sizi buraya ne getirdi?",
                 choices="Breakfast | Kahvaltı\nDinner | Akşam yemeği")
    add_question(page, "Rating from 1 to 5", "How was your meal?", "Yemeğiniz nasıldı?",
                 required=True)
    items = page.locator("ol.questions > li")
    expect(items.nth(1)).to_contain_text("How was your meal?")

    page.evaluate("window.__kulak_marker = 1")
    page.get_by_role("button", name=re.compile(r"^Move up\W+How was your meal\?$")).click()
    expect(items.nth(0)).to_contain_text("How was your meal?")
    expect(items.nth(0)).to_contain_text("required")
    expect(items.nth(1)).to_contain_text("Breakfast | Kahvaltı")
    assert page.evaluate("window.__kulak_marker") == 1, "the move reloaded the page"

    page.get_by_role("link", name="in Turkish").click()
    expect(page.get_by_role("note")).to_contain_text("Önizleme: hiçbir şey kaydedilmez.")
    assert legends(page) == ["Yemeğiniz nasıldı?", "Sizi buraya ne getirdi?"]
    page.goto(page.url.replace("lang=tr", "lang=en"))
    assert legends(page) == ["How was your meal?", "What brings you here?"]
    refused_by_the_browser(page)
    option(page, "4", "How was your meal?").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("status")).to_contain_text("These answers would be accepted")
    with database.connect() as connection:
        survey_id = connection.scalar(sa.select(SURVEY.c.id).where(SURVEY.c.name == name))
        assert connection.scalar(sa.select(sa.func.count()).select_from(RESPONSE)
                                 .where(RESPONSE.c.survey_id == survey_id)) == 0
        table_7 = connection.scalar(sa.select(TOUCHPOINT.c.id)
                                    .where(TOUCHPOINT.c.slug == "table-7"))

    page.goto(f"{live_server.url}/admin/touchpoints/{table_7}")
    page.locator("#survey").select_option(label=name)
    page.locator("#edit-touchpoint").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    customer = watch(js=False).page
    customer.goto(f"{live_server.url}/b/demo/table-7")
    assert legends(customer) == ["How was your meal?", "What brings you here?"]
    option(customer, "Breakfast", "What brings you here?").click()
    refused_by_the_browser(customer)
    option(customer, "5", "How was your meal?").click()
    customer.get_by_role("button", name="Continue").click()
    expect(customer.get_by_role("heading", name="How can we help?")).to_be_visible()
    with database.connect() as connection:
        answers = connection.execute(
            sa.select(ANSWER.c.number, ANSWER.c.text).join(
                RESPONSE, RESPONSE.c.id == ANSWER.c.response_id)
            .where(RESPONSE.c.survey_id == survey_id)).all()
    assert sorted(answers, key=str) == sorted([(5, None), (None, "breakfast")], key=str)
    assert admin.console_lines() == [] and admin.page_errors == []
