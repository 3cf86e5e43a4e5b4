"""Staff sessions end on the server: log out, idle timeout, sign-in rotation, login throttling."""
from datetime import timedelta

from app.inbox import auth
from models import StaffSession, db
from models import staff as staff_module
from models.common import utcnow
from tests.inbox.staff import NOTE, Staff, conversation, form_values, login, soup

AGENT = "agent@demo.example"


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return thief


def test_a_cookie_saved_before_logout_opens_nothing_after(app, demo):
    agent = Staff(app, AGENT)
    convo = conversation(demo)
    thief = copy_of(app, agent.client)
    assert thief.get("/inbox/").status_code == 200  # the copy works while the session lives
    page = agent.get(f"/inbox/c/{convo.id}")
    logout = agent.submit(page, 'form[action="/inbox/logout"]')
    assert logout.status_code == 303
    assert thief.get("/inbox/").status_code == 302  # to the login page
    note = form_values(soup(page).select_one(NOTE)) | {"note": "written with a stolen cookie"}
    assert thief.post(f"/inbox/c/{convo.id}/note", data=note).status_code in (302, 400)
    db.session.expire_all()
    assert all(m.body != "written with a stolen cookie" for m in convo.messages)
    assert db.session.scalar(db.select(StaffSession)).ended_at is not None


def test_a_csrf_token_from_before_sign_in_is_refused_after(app, demo):
    client = app.test_client()
    planted = form_values(soup(client.get("/inbox/login")).select_one("form"))["csrf_token"]
    assert login(client, AGENT).status_code == 303
    convo = conversation(demo)
    refused = client.post(f"/inbox/c/{convo.id}/note",
                          data={"csrf_token": planted, "note": "forged"})
    assert refused.status_code == 400
    fresh = form_values(soup(client.get(f"/inbox/c/{convo.id}")).select_one(NOTE))
    assert fresh["csrf_token"] != planted
    assert client.post(f"/inbox/c/{convo.id}/note",
                       data=fresh | {"note": "mine"}).status_code == 303


def test_each_sign_in_is_a_session_of_its_own(app, demo):
    first, second = Staff(app, AGENT), Staff(app, AGENT)
    assert db.session.scalar(db.select(db.func.count(StaffSession.id))) == 2
    first.submit(first.get("/inbox/"), 'form[action="/inbox/logout"]')
    assert first.get("/inbox/").status_code == 302
    assert second.get("/inbox/").status_code == 200  # logging out ends only that browser's


def test_a_session_idle_longer_than_the_brand_allows_ends(app, demo):
    demo.idle_timeout_minutes = 30
    db.session.commit()
    agent = Staff(app, AGENT)
    started = db.session.scalar(db.select(StaffSession))
    started.last_seen_at = utcnow() - timedelta(minutes=29)
    db.session.commit()
    assert agent.get("/inbox/").status_code == 200
    db.session.refresh(started)
    assert started.last_seen_at > utcnow() - timedelta(minutes=1)  # use keeps it alive
    started.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    assert agent.get("/inbox/").status_code == 302
    db.session.refresh(started)
    assert started.ended_at is not None


def test_the_admin_sets_the_idle_timeout(app, demo):
    admin = Staff(app, "admin@demo.example")
    form = 'form[action="/admin/brand"]'
    assert admin.submit(admin.get("/admin/brand"), form,
                        idle_timeout_minutes="1").status_code == 422
    assert admin.submit(admin.get("/admin/brand"), form,
                        idle_timeout_minutes="90").status_code == 303
    db.session.refresh(demo)
    assert demo.idle_timeout_minutes == 90


def test_known_and_unknown_addresses_cost_the_same_hash_check(app, demo, monkeypatch):
    checks = []

    def counting(check):
        def counted(*args):
            checks.append(args[0][:6])
            return check(*args)
        return counted
    monkeypatch.setattr(auth, "check_password_hash", counting(auth.check_password_hash))
    monkeypatch.setattr(staff_module, "check_password_hash",
                        counting(staff_module.check_password_hash))
    for email in (AGENT, "nobody@demo.example"):
        checks.clear()
        assert login(app.test_client(), email, "a wrong password").status_code == 422
        assert len(checks) == 1 and checks[0].startswith("scrypt"), email


def test_one_account_is_throttled_whatever_the_address_and_says_when(limited):
    answers = []
    for attempt in range(9):
        client = limited.test_client()  # as if each came from elsewhere: a fresh browser
        answers.append(login(client, AGENT, f"guess {attempt}"))
    assert [a.status_code for a in answers[:8]] == [422] * 8
    throttled = answers[8]
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "try again in" in throttled.get_data(as_text=True)
    # Another account is not held up by it.
    assert login(limited.test_client(), "lead@demo.example").status_code == 303
