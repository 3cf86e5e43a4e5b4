"""One's own account: profile, language, password change, forgot password, the reset CLI."""
import os
import re
import subprocess
import time
from datetime import timedelta

from app import create_app
from models import OneTimeLink, StaffMember, db
from models.common import utcnow
from tests.conftest import (
    DEMO_PASSWORD,
    MODEL_DIR,
    RequestPerContextClient,
    kulak_command,
)
from tests.inbox.staff import Staff, form_values, login, soup

AGENT = "agent@demo.example"
NEW_PASSWORD = "a new and long password"
SAME_ANSWER = "If that address belongs to an account"


def wait_for_mail(inbox, count=1, seconds=15):
    deadline = time.monotonic() + seconds
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) >= count, "no mail arrived"
    return inbox.messages[count - 1]


def link_in(message):
    """The password link of a received mail, as the person would click it."""
    text = message["content"].replace("=\r\n", "").replace("=\n", "")
    found = re.search(r"http://kulak\.test(/inbox/password/[A-Za-z0-9_\-]+)", text)
    assert found, text[:2000]
    return found.group(1)


def ask_reset(client, email):
    page = client.get("/inbox/forgot")
    return client.post("/inbox/forgot", data=form_values(soup(page).select_one("form"))
                       | {"email": email})


def choose_password(client, path, password=NEW_PASSWORD):
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data=form_values(soup(page).select_one("form"))
                       | {"password": password, "confirm": password})


def test_profile_changes_name_and_language(app, demo):
    agent = Staff(app, AGENT)
    page = agent.get("/inbox/profile")
    answer = agent.submit(page, 'form[action="/inbox/profile"]', name="Ayşe D.", language="tr")
    assert answer.status_code == 303
    member = db.session.get(StaffMember, agent.member.id)
    db.session.refresh(member)
    assert (member.name, member.language) == ("Ayşe D.", "tr")
    inbox = agent.get("/inbox/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="tr">' in inbox  # their own language beats the browser's


def test_profile_refuses_bad_input(app, demo):
    agent = Staff(app, AGENT)
    page = agent.get("/inbox/profile")
    form = 'form[action="/inbox/profile"]'
    assert agent.submit(page, form, name="").status_code == 422
    assert agent.submit(page, form, name="x" * 121).status_code == 422
    assert agent.submit(page, form, language="de").status_code == 422
    member = db.session.get(StaffMember, agent.member.id)
    db.session.refresh(member)
    assert member.name == "Ayşe Demir" and member.language is None


def test_password_change_ends_other_sessions_only(app, demo):
    here, elsewhere = Staff(app, AGENT), Staff(app, AGENT)
    page = here.get("/inbox/profile")
    form = 'form[action="/inbox/profile/password"]'
    wrong = here.submit(page, form, current="not it", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    assert elsewhere.get("/inbox/").status_code == 200
    done = here.submit(page, form, current=DEMO_PASSWORD, password=NEW_PASSWORD,
                       confirm=NEW_PASSWORD)
    assert done.status_code == 303
    assert here.get("/inbox/").status_code == 200
    assert elsewhere.get("/inbox/").status_code == 302  # to the login page, at once
    assert login(app.test_client(), AGENT).status_code != 303
    assert login(app.test_client(), AGENT, NEW_PASSWORD).status_code == 303


def test_forgot_password_mails_a_link_that_works_once(app, demo, smtp):
    client = app.test_client()
    answer = ask_reset(client, AGENT.upper())
    assert answer.status_code == 200 and SAME_ANSWER in answer.get_data(as_text=True)
    message = wait_for_mail(smtp)
    assert message["to"] == [AGENT]
    assert "Reset your Kulak password" in message["content"]
    path = link_in(message)
    signed_in_before = Staff(app, AGENT)
    assert choose_password(client, path).status_code == 303
    assert client.get("/inbox/").status_code == 200  # the link signs them in
    assert signed_in_before.get("/inbox/").status_code == 302  # every other session ended
    assert client.get(path).status_code == 410  # used
    assert login(app.test_client(), AGENT, NEW_PASSWORD).status_code == 303


def test_forgot_password_answers_the_same_for_unknown_and_inactive(app, demo, smtp):
    client = app.test_client()
    db.session.scalar(db.select(StaffMember).filter_by(email="lead@demo.example")).active = False
    db.session.commit()
    answers = [ask_reset(client, email) for email in
               ("nobody@demo.example", "lead@demo.example", AGENT)]
    # The same page but for the CSRF token, which is signed with the second it was made in.
    texts = {re.sub(r'(name="csrf_token" type="hidden" value=")[^"]+', r"\1",
                    a.get_data(as_text=True).split("<main>")[1]) for a in answers}
    assert [a.status_code for a in answers] == [200, 200, 200] and len(texts) == 1
    wait_for_mail(smtp)
    time.sleep(0.5)
    assert [m["to"] for m in smtp.messages] == [[AGENT]]  # only the active account got mail


def test_forgot_password_rejects_a_malformed_address(app, demo):
    answer = ask_reset(app.test_client(), "not an address")
    assert answer.status_code == 422 and SAME_ANSWER not in answer.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(OneTimeLink.id))) == 0


def test_one_address_gets_few_links_however_often_it_is_asked(app, demo, smtp):
    client = app.test_client()
    for _ in range(6):
        assert SAME_ANSWER in ask_reset(client, AGENT).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(OneTimeLink.id)).filter_by(
        purpose="reset")) == 3


def test_a_reset_link_expires_and_dies_with_deactivation(app, demo, smtp):
    client = app.test_client()
    ask_reset(client, AGENT)
    path = link_in(wait_for_mail(smtp))
    link = db.session.scalar(db.select(OneTimeLink).filter_by(purpose="reset"))
    assert link.expires_at <= utcnow() + timedelta(hours=1)
    agent = db.session.scalar(db.select(StaffMember).filter_by(email=AGENT))
    agent.active = False
    db.session.commit()
    assert client.get(path).status_code == 410
    agent.active, link.expires_at = True, utcnow()
    db.session.commit()
    assert client.get(path).status_code == 410


def test_a_flood_of_reset_requests_is_limited_with_the_same_answer(limited):
    """Rate limits are on here (the shared test app turns them off)."""
    client = limited.test_client()
    statuses = []
    for _ in range(8):
        answer = ask_reset(client, "nobody@example.com")
        statuses.append(answer.status_code)
        assert SAME_ANSWER in answer.get_data(as_text=True)
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}


def test_cli_prints_a_reset_link_that_works(tmp_path):
    env = {**os.environ, "KULAK_INSTANCE": str(tmp_path), "KULAK_MODEL_DIR": MODEL_DIR,
           "KULAK_PUBLIC_URL": "http://kulak.test", "KULAK_DEMO_PASSWORD": DEMO_PASSWORD}
    for name in ("DATABASE_URL", "REDIS_URL", "KULAK_MAIL_URL"):
        env.pop(name, None)
    subprocess.run(kulak_command("demo"), env=env, check=True, capture_output=True, timeout=180)
    done = subprocess.run(kulak_command("staff", "reset-link", AGENT), env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip().splitlines()[-1]
    assert url.startswith("http://kulak.test/inbox/password/")
    missing = subprocess.run(kulak_command("staff", "reset-link", "nobody@x.example"), env=env,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no active member of staff" in missing.stderr
    app = create_app({"TESTING": True}, environ=env)
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        client = app.test_client()
        assert choose_password(client, url.removeprefix("http://kulak.test")).status_code == 303
        assert login(app.test_client(), AGENT, NEW_PASSWORD).status_code == 303
        db.engine.dispose()
