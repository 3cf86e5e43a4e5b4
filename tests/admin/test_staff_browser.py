"""Inviting on a real `kulak serve` without mail set up: with a browser that runs no script,
the admin invites and the invited person opens the link shown, joins and is signed in; in
Chromium, the staff page invites, shows the link once, and revokes it."""
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from ..conftest import DEMO_PASSWORD
from ..test_browser import sign_in
from ..test_journey_nojs import Browser

PASSWORD = "a quiet room by the sea"


class StaffBrowser(Browser):
    """The same script-free browser, signed in with a session cookie."""

    cookies_allowed = True


@pytest.fixture
def database(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"], poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def check(form, box_text):
    """Tick the checkbox whose label reads `box_text`, as a person does."""
    label = next(la for la in form.element.find_all("label")
                 if la.get_text(strip=True) == box_text)
    box = label.find("input", type="checkbox")
    form.values[box["name"]] = box["value"]
    return form


@pytest.mark.server
def test_invite_and_join_without_javascript(live_server, database):
    address = f"nojs-{uuid.uuid4().hex[:8]}@demo.example"
    admin = StaffBrowser(live_server.url)
    admin.open("/inbox/login")
    admin.form().fill("Email", "admin@demo.example").fill("Password", DEMO_PASSWORD).submit()
    admin.follow("Staff")
    assert admin.url == live_server.url + "/admin/staff"
    invite = admin.form("#invite-form").fill("Email addresses", address) \
        .select("Role", "Team lead")
    check(check(invite, "Front desk"), "Room 412").submit()
    assert admin.response.status_code == 200, admin.soup.get_text()[:500]
    link = admin.soup.select_one("#invite-links input.invite-link")["value"]
    assert link.startswith(live_server.url + "/inbox/invite/")
    row = next(r for r in admin.soup.select("table.invitations tr") if address in r.get_text())
    assert "Not mailed: copy the link" in row.get_text()
    admin.open("/admin/staff")
    assert link not in admin.response.text  # shown once

    person = StaffBrowser(live_server.url)
    person.open(link)
    assert person.response.status_code == 200
    assert person.soup.select_one("#email")["value"] == address
    person.form("#accept-form").fill("Your name", "Nojs Kişi").select("Language", "Türkçe") \
        .fill("New password", PASSWORD).fill("The same password again", PASSWORD).submit()
    assert person.response.status_code == 200 and person.url == live_server.url + "/inbox/"
    assert "Nojs Kişi" in person.soup.select_one("header .who").get_text()
    with database.connect() as connection:
        role, language, teams, places = connection.execute(sa.text(
            "SELECT s.role, s.language, (SELECT count(*) FROM team_membership m JOIN team t "
            "ON t.id = m.team_id WHERE m.staff_id = s.id AND t.slug = 'front-desk'), "
            "(SELECT count(*) FROM staff_touchpoint p JOIN touchpoint tp ON tp.id = "
            "p.touchpoint_id WHERE p.staff_id = s.id AND tp.slug = 'room-412') "
            "FROM staff_member s WHERE s.email = :email"), {"email": address}).one()
    assert (role, language, teams, places) == ("lead", "tr", 1, 1)
    # The same form sent again from the signed-in browser: its CSRF token went with the
    # sign-in (a fresh session), so it is refused before anything is looked at.
    assert person.resubmit().status_code == 400
    with database.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM staff_member WHERE email = :e"),
                                 {"e": address}) == 1


@pytest.mark.browser
def test_the_staff_page_invites_shows_the_link_and_revokes(live_server, watch):
    address = f"chromium-{uuid.uuid4().hex[:8]}@demo.example"
    watched = watch()
    page = watched.page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    sign_in(page, live_server.url, "admin@demo.example", "/admin/staff")
    form = page.locator("#invite-form")
    form.get_by_label("Email addresses").fill(address)
    form.get_by_label("Role").select_option(label="Agent")
    form.get_by_role("button", name="Invite", exact=True).click()
    links = page.locator("#invite-links")
    expect(links).to_be_visible()
    link = links.get_by_label(address).input_value()
    assert link.startswith(f"{live_server.url}/inbox/invite/")
    row = page.locator("table.invitations tr", has_text=address)
    expect(row).to_contain_text("Not mailed: copy the link")
    page.wait_for_load_state()  # the stylesheet too: measured before it, any table is wide
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

    row.get_by_role("button", name=f"Revoke {address}").click()
    expect(page.get_by_role("status").filter(
        has_text=f"The invitation of {address} is revoked")).to_be_visible()
    expect(page.locator("table.invitations tr", has_text=address)).to_have_count(0)
    expect(page.locator("#invite-links")).to_have_count(0)
    invited = watch(js=False).page
    answer = invited.goto(link)
    assert answer.status == 410
    expect(invited.get_by_role("heading", name="This link no longer works")).to_be_visible()
    assert watched.console_lines() == [] and watched.page_errors == []
