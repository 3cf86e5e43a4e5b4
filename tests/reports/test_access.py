"""Who reads which figures: roles, brand isolation, and bad input answered without a 500."""
import pytest

from models import Team, db

from ..inbox.staff import Staff, soup
from .conftest import MONDAY, WEEK, add, member

URLS = ("/reports/", "/reports/conversations.csv")


def shown_total(page):
    return soup(page).select_one("#volume-title + .figures .figure").get_text()


def test_the_page_shows_the_weeks_figures_charts_and_tables(app, manager, week):
    page = manager.get("/reports/", query_string=WEEK)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert shown_total(page) == "5"
    assert "2 min 0 s" in html  # the first-response median
    assert 'src="data:image/svg+xml;base64,' in html and "<script" not in html.split(
        "</head>")[1]
    found = soup(page)
    assert found.select("details.as-table table") and found.select("table.heat")
    assert {a["href"] for a in found.select(".group-list a")} >= {
        f"/inbox/c/{convo.id}" for convo in week}
    assert "Rule:" in html and 'href="/reports/conversations.csv?' in html


@pytest.mark.parametrize("role, total", [("agent", "5"), ("lead", "6"), ("manager", "7")])
def test_agents_see_their_own_leads_their_scope_managers_the_brand(app, demo, week, role,
                                                                   total):
    lead = member("lead@demo.example")
    other_team = Team(brand_id=demo.id, slug="kitchen", name="Kitchen")
    db.session.add(other_team)
    db.session.commit()
    add(demo, MONDAY, assignee_id=lead.id)  # the lead's own: not the agent's
    add(demo, MONDAY, team_id=other_team.id, assignee_id=member("admin@demo.example").id)
    staff = Staff(app, f"{role}@demo.example")
    assert shown_total(staff.get("/reports/", query_string=WEEK)) == total


def test_another_brand_sees_nothing_of_this_one(app, demo, week, other_brand):
    brand, owner = other_brand
    owner.set_password("another-password-123")
    db.session.commit()
    from ..inbox.staff import login
    other = app.test_client()
    assert login(other, owner.email, "another-password-123").status_code == 303
    page = other.get("/reports/", query_string=WEEK)
    assert page.status_code == 200 and shown_total(page) == "0"
    assert "/inbox/c/" not in page.get_data(as_text=True)
    rows = other.get("/reports/conversations.csv", query_string=WEEK, buffered=True)
    assert rows.get_data().decode("utf-8-sig").strip().count("\n") == 0  # the header alone


@pytest.mark.parametrize("query, message", [
    ({"period": "custom", "start": "2026-03-08", "end": "2026-03-01"}, "before the start"),
    ({"period": "custom", "start": "2016-01-01", "end": "2026-01-01"}, "at most 366 days"),
    ({"period": "custom", "start": "0001-01-01", "end": "0001-01-02"}, "between 2000"),
    ({"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}, "date"),
    ({"period": "custom"}, "both dates"),
    ({"period": "forever"}, "not one of the choices"),
    ({"team": "abc"}, "not one of the choices"),
    ({"category": "99999999999999999999"}, "not one of the choices"),
])
def test_bad_input_is_a_message_never_a_traceback(app, manager, query, message):
    for url in URLS:
        answer = manager.get(url, query_string=query)
        assert answer.status_code == 400, (url, query)
        text = answer.get_data(as_text=True)
        assert message in text and "Traceback" not in text
        assert soup(answer).select_one('[role="alert"]') is not None


@pytest.mark.parametrize("name", ["team", "agent", "touchpoint", "category"])
def test_another_brands_ids_are_refused(app, manager, other_brand, name):
    brand, owner = other_brand
    ids = {"team": db.session.scalar(db.select(Team.id).filter_by(brand_id=brand.id)),
           "agent": owner.id, "touchpoint": brand.touchpoints[0].id if brand.touchpoints
           else None, "category": brand.categories[0].id}
    if ids[name] is None:
        pytest.skip(f"the new brand has no {name}")
    for url in URLS:
        answer = manager.get(url, query_string={name: str(ids[name])})
        assert answer.status_code == 400 and "not one of the choices" in answer.text


def test_an_agent_cannot_filter_by_a_colleague(app, demo, week):
    agent = Staff(app, "agent@demo.example")
    lead = member("lead@demo.example")
    assert agent.get("/reports/", query_string={"agent": str(lead.id)}).status_code == 400


def test_signed_out_visitors_are_sent_to_sign_in(app, client, demo):
    for url in URLS:
        answer = client.get(url)
        assert answer.status_code == 302 and "/inbox/login" in answer.location


def test_the_menu_leads_to_the_reports_for_every_role(app, demo):
    for role in ("agent", "lead", "manager", "admin"):
        page = Staff(app, f"{role}@demo.example").get("/inbox/")
        assert soup(page).select_one('nav[aria-label="Main menu"] a[href="/reports/"]')
