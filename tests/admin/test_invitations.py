"""Invitations: mailed through a real SMTP server (or shown once when there is no mail), the
link opened, a name and password chosen, and the person signed in with what they were given.
A link works once, for 24 hours; revoking or resending it kills it."""
import email
import re
import threading
import time
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from app.admin import places, rosters
from models import Invitation, OutgoingMail, StaffMember, Team, Touchpoint, db
from models.access import token_hash
from models.common import utcnow

from ..inbox.staff import Staff, form_values, login, soup
from .test_staff import STAFF, errors, invite, member, place, row

PASSWORD = "a long walk by the sea"
LINK = re.compile(r"http://kulak\.test(/inbox/invite/[A-Za-z0-9_-]{20,})")
GONE = "This link no longer works"


def mail_number(inbox, count, seconds=15):
    """Wait for the `count`th message (the embedded default delivers on a thread)."""
    deadline = time.monotonic() + seconds
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) >= count, "no mail arrived"
    return email.message_from_string(inbox.messages[count - 1]["content"], policy=policy.default)


def bodies(message):
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def link_in(message):
    """The invitation's link as the person reads it in the mail's text."""
    found = LINK.findall(bodies(message)[0])
    assert len(found) == 1, bodies(message)[0]
    return found[0]


def shown_links(page):
    """The links the page shows when no mail could carry them: {address: path}."""
    return {field.find_previous("label").get_text(): LINK.match(field["value"]).group(1)
            for field in soup(page).select("#invite-links input.invite-link")}


def accept(client, path, name="Zeynep Şahin", password=PASSWORD, **fields):
    """Open the link and send its form as the invited person fills it."""
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    data = form_values(soup(page).select_one("#accept-form")) | {
        "name": name, "password": password, "confirm": password, **fields}
    return client.post(path, data=data)


def invitation(address):
    db.session.expire_all()
    return db.session.scalar(select(Invitation).filter_by(email=address))


def accounts(address):
    db.session.expire_all()
    return db.session.scalars(select(StaffMember).filter_by(email=address)).all()


def test_an_invitation_by_mail_end_to_end(app, admin, demo, smtp, client):
    kitchen = Team(brand_id=demo.id, slug="kitchen", name="Kitchen")
    db.session.add(kitchen)
    db.session.commit()
    room = place(demo, "room-412")
    sent = invite(admin, "Zeynep@Demo.example", role="lead", teams=[kitchen.id],
                  touchpoints=[room.id])
    assert sent.status_code == 303 and sent.headers["Location"] == f"{STAFF}#invitations"
    assert "Invitation mailed to zeynep@demo.example." in admin.get(STAFF).text

    message = mail_number(smtp, 1)
    assert message["To"] == "zeynep@demo.example"
    assert message["Subject"] == "Deniz Aksoy invites you to Demo Hotel on Kulak"
    text, html = bodies(message)
    assert "Deniz Aksoy invites you to join Demo Hotel on Kulak as Team lead" in text
    path = link_in(message)
    assert f'href="http://kulak.test{path}"' in html
    pending = invitation("zeynep@demo.example")
    assert pending.token_hash == token_hash(path.rsplit("/", 1)[1])
    deadline = time.monotonic() + 10
    while db.session.get(OutgoingMail, pending.mail_id).status != "sent":
        assert time.monotonic() < deadline, "the mail was never marked sent"
        time.sleep(0.05)
        db.session.expire_all()
    assert "Mailed" in row(admin.get(STAFF), f"#invitation-{pending.id}").get_text()

    opened = client.get(path)  # opening the link changes nothing
    assert opened.status_code == 200
    assert soup(opened).select_one("h1").get_text() == "Join Demo Hotel"
    assert soup(opened).select_one("#email")["value"] == "zeynep@demo.example"
    assert accounts("zeynep@demo.example") == [] and invitation("zeynep@demo.example").pending
    joined = accept(client, path, language="tr")
    assert joined.status_code == 303 and joined.headers["Location"] == "/inbox/"
    assert "Zeynep Şahin" in client.get("/inbox/").text  # signed in
    [person] = accounts("zeynep@demo.example")
    assert (person.role, person.language, person.brand_id) == ("lead", "tr", demo.id)
    assert [t.name for t in person.teams] == ["Kitchen"] and person.touchpoint_ids == [room.id]
    assert login(app.test_client(), "zeynep@demo.example", PASSWORD).status_code == 303
    used = invitation("zeynep@demo.example")
    assert used.accepted_at is not None and used.staff_id == person.id
    assert f"invitation-{used.id}" not in admin.get(STAFF).text

    second = app.test_client().get(path)  # the same link a second time
    assert second.status_code == 410 and GONE in second.text
    resent = client.post(path, data=form_values(soup(opened).select_one("#accept-form")) | {
        "name": "Someone", "password": PASSWORD, "confirm": PASSWORD})
    assert resent.status_code == 400  # its token ended with the sign-in: nothing looked at
    assert len(accounts("zeynep@demo.example")) == 1


def test_the_mail_is_in_the_brands_language(admin, demo, smtp):
    demo.default_language = "tr"
    db.session.commit()
    assert invite(admin, "ayla@demo.example").status_code == 303  # the admin reads English
    assert '<html lang="tr">' in bodies(mail_number(smtp, 1))[1]


def test_without_mail_the_link_is_shown_once_and_works(app, admin, demo):
    answer = invite(admin, "bora@demo.example", role="agent")
    assert answer.status_code == 200
    assert "Kulak has no mail set up: give each person the link below yourself." in answer.text
    path = shown_links(answer)["bora@demo.example"]
    later = admin.get(STAFF)
    assert path not in later.text and shown_links(later) == {}
    pending = invitation("bora@demo.example")
    assert row(later, f"#invitation-{pending.id} .mail-status").get_text().startswith(
        "Not mailed: copy the link")
    assert db.session.scalar(select(OutgoingMail.id)) is None
    browser = app.test_client()
    joined = accept(browser, path, name="Bora Can")
    assert joined.status_code == 303 and joined.headers["Location"] == "/inbox/"
    assert browser.get("/inbox/").status_code == 200
    [person] = accounts("bora@demo.example")
    assert (person.name, person.role, person.teams, person.touchpoint_ids) == \
        ("Bora Can", "agent", [], None)


def test_an_expired_link_is_gone(app, admin, demo):
    path = shown_links(invite(admin, "late@demo.example"))["late@demo.example"]
    browser = app.test_client()
    page = browser.get(path)  # opened in time, sent too late
    data = form_values(soup(page).select_one("#accept-form")) | {
        "name": "Late", "password": PASSWORD, "confirm": PASSWORD}
    pending = invitation("late@demo.example")
    pending.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    opened = browser.get(path)
    assert opened.status_code == 410 and GONE in opened.text
    assert browser.post(path, data=data).status_code == 410
    assert accounts("late@demo.example") == []
    assert "Expired" in row(admin.get(STAFF), f"#invitation-{pending.id} .expiry").get_text()


def test_a_revoked_link_is_gone(app, admin, demo):
    path = shown_links(invite(admin, "nope@demo.example"))["nope@demo.example"]
    pending = invitation("nope@demo.example")
    done = admin.submit(admin.get(STAFF), f'#invitation-{pending.id} form[action$="/revoke"]')
    assert done.status_code == 303
    page = admin.get(STAFF)
    assert "The invitation of nope@demo.example is revoked" in page.text
    assert soup(page).select_one(f"#invitation-{pending.id}") is None
    assert invitation("nope@demo.example").revoked_at is not None
    assert app.test_client().get(path).status_code == 410
    assert admin.submit(page, "#invite-form", emails="nope@demo.example",
                        role="agent").status_code == 200  # invited again, afresh


def test_resend_gives_a_new_link_and_kills_the_old(app, admin, demo, smtp):
    assert invite(admin, "again@demo.example").status_code == 303
    old = link_in(mail_number(smtp, 1))
    pending = invitation("again@demo.example")
    pending.created_at = pending.expires_at = utcnow() - timedelta(hours=1)  # and it expired
    db.session.commit()
    first_mail = pending.mail_id
    resent = admin.submit(admin.get(STAFF), f'#invitation-{pending.id} form[action$="/resend"]')
    assert resent.status_code == 303
    new = link_in(mail_number(smtp, 2))
    assert new != old and len(smtp.messages) == 2
    renewed = invitation("again@demo.example")
    assert renewed.mail_id != first_mail
    assert timedelta(hours=23, minutes=59) < renewed.expires_at - utcnow() <= timedelta(hours=24)
    browser = app.test_client()
    assert browser.get(old).status_code == 410
    assert accept(browser, new).status_code == 303
    assert len(accounts("again@demo.example")) == 1


def test_resend_without_mail_shows_the_new_link_once(app, admin, demo):
    old = shown_links(invite(admin, "copy@demo.example"))["copy@demo.example"]
    pending = invitation("copy@demo.example")
    resent = admin.submit(admin.get(STAFF), f'#invitation-{pending.id} form[action$="/resend"]')
    assert resent.status_code == 200 and resent.headers["Cache-Control"] == "no-store"
    new = shown_links(resent)["copy@demo.example"]
    assert new != old
    assert app.test_client().get(old).status_code == 410
    assert app.test_client().get(new).status_code == 200


def test_a_double_submit_makes_one_account(app, admin, demo):
    path = shown_links(invite(admin, "twice@demo.example"))["twice@demo.example"]
    browser = app.test_client()
    page = browser.get(path)
    data = form_values(soup(page).select_one("#accept-form")) | {
        "name": "Twice", "password": PASSWORD, "confirm": PASSWORD}
    cookie = browser.get_cookie("session").value  # what a second click still carries
    assert browser.post(path, data=data).status_code == 303
    second_click = app.test_client()
    second_click.set_cookie("session", cookie, domain="localhost")
    assert second_click.post(path, data=data).status_code == 410
    assert len(accounts("twice@demo.example")) == 1


def test_two_submits_at_the_same_moment_make_one_account(app, admin, demo):
    path = shown_links(invite(admin, "race@demo.example"))["race@demo.example"]
    browsers = [app.test_client() for _ in range(2)]
    forms = [form_values(soup(b.get(path)).select_one("#accept-form")) | {
        "name": "Race", "password": PASSWORD, "confirm": PASSWORD} for b in browsers]
    start, answers = threading.Barrier(2), []

    def submit(browser, data):
        start.wait()
        answers.append(browser.post(path, data=data).status_code)
    threads = [threading.Thread(target=submit, args=pair)
               for pair in zip(browsers, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers)[0] == 303 and sorted(answers)[1] in (409, 410), answers
    assert len(accounts("race@demo.example")) == 1


def test_an_address_that_got_an_account_meanwhile_is_told_so(app, admin, demo, other_brand):
    path = shown_links(invite(admin, "both@demo.example"))["both@demo.example"]
    browser = app.test_client()
    data = form_values(soup(browser.get(path)).select_one("#accept-form")) | {
        "name": "Both", "password": PASSWORD, "confirm": PASSWORD}
    brand, _owner, _token = other_brand
    elsewhere = StaffMember(brand_id=brand.id, email="both@demo.example", name="Both")
    elsewhere.set_unusable_password()
    db.session.add(elsewhere)
    db.session.commit()
    opened = browser.get(path)
    assert opened.status_code == 409
    assert "both@demo.example already has a Kulak account" in opened.text
    assert "Other Hotel" not in opened.text
    answer = browser.post(path, data=data)
    assert answer.status_code == 409 and "already has a Kulak account" in answer.text
    assert [a.brand_id for a in accounts("both@demo.example")] == [brand.id]
    assert invitation("both@demo.example").accepted_at is None
    refused = admin.submit(admin.get(STAFF), f'#invitation-{invitation("both@demo.example").id}'
                                             ' form[action$="/resend"]')
    assert refused.status_code == 422
    assert "both@demo.example already has a Kulak account; an address can belong to one " \
        "account only." in errors(refused)


@pytest.mark.parametrize("fields, message", [
    ({"name": "  "}, "Please give your name as your colleagues know it."),
    ({"name": "Z" * 121}, "Please use at most 120 characters (it has 121)."),
    ({"password": "short", "confirm": "short"}, "Please use between 10 and 200 characters."),
    ({"password": "p" * 201, "confirm": "p" * 201}, "Please use between 10 and 200 characters."),
    ({"confirm": "another long password"}, "The two passwords are not the same."),
    ({"language": "de"}, "Please choose English or Türkçe."),
])
def test_bad_input_on_the_invitation_page_changes_nothing(app, admin, demo, fields, message):
    path = shown_links(invite(admin, "typo@demo.example"))["typo@demo.example"]
    browser = app.test_client()
    page = browser.get(path)
    data = form_values(soup(page).select_one("#accept-form")) | {
        "name": "Typo", "password": PASSWORD, "confirm": PASSWORD} | fields
    refused = browser.post(path, data=data)
    assert refused.status_code == 422
    assert message in errors(refused)
    assert browser.post(path, data=data | {"csrf_token": "forged"}).status_code == 400
    assert accounts("typo@demo.example") == [] and invitation("typo@demo.example").pending
    assert accept(browser, path).status_code == 303  # the link still works


def test_teams_and_places_deleted_meanwhile_are_dropped(app, admin, demo):
    night = rosters.create_team(demo.id, "Night shift")
    kept = rosters.create_team(demo.id, "Spa")
    spa = places.add_touchpoint(demo, "Spa desk", "kiosk")
    room = place(demo, "room-412")
    path = shown_links(invite(admin, "moved@demo.example", teams=[night.id, kept.id],
                              touchpoints=[spa.id, room.id]))["moved@demo.example"]
    rosters.delete_team(night)
    places.delete_touchpoint(spa)
    assert accept(app.test_client(), path).status_code == 303
    [person] = accounts("moved@demo.example")
    assert [t.name for t in person.teams] == ["Spa"] and person.touchpoint_ids == [room.id]


def test_an_invitation_whose_places_are_all_gone_gives_no_wider_access(app, admin, demo):
    spa = places.add_touchpoint(demo, "Spa desk", "kiosk")
    path = shown_links(invite(admin, "spa@demo.example", touchpoints=[spa.id]))[
        "spa@demo.example"]
    places.delete_touchpoint(spa)
    refused = accept(app.test_client(), path)
    assert refused.status_code == 409
    assert "The places this invitation was for no longer exist" in refused.text
    assert accounts("spa@demo.example") == [] and invitation("spa@demo.example").pending
    assert db.session.scalar(select(Touchpoint.id).filter_by(slug="spa-desk")) is None


def test_a_manager_cannot_resend_or_revoke_an_admin_invitation(app, admin, demo):
    invite(admin, "boss2@demo.example", role="admin")
    pending = invitation("boss2@demo.example")
    manager = Staff(app, "manager@demo.example")
    assert row(manager.get(STAFF), f"#invitation-{pending.id}").select("form") == []
    for action in ("resend", "revoke"):
        refused = manager.client.post(f"/admin/invitations/{pending.id}/{action}",
                                      data={"csrf_token": manager.token})
        assert refused.status_code == 422
        assert errors(refused) == ["This invitation gives the role Admin, which you may not "
                                   "give: only someone who may can resend or revoke it."]
    after = invitation("boss2@demo.example")
    assert (after.token_hash, after.revoked_at) == (pending.token_hash, None)
    assert member("manager@demo.example").role == "manager"
