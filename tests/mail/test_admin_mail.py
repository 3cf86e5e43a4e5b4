"""/admin/mail: the sender, the brand's own mail and a test mail to a real server; admins only."""
from flask_migrate import upgrade

from app import create_app
from app.admin.setup import create_brand
from app.demo import seed_demo
from app.extensions import limiter
from app.mail import send_mail
from models import OutgoingMail, db

from ..conftest import DEMO_PASSWORD, RequestPerContextClient, free_port
from ..inbox.staff import Staff, form_values, soup
from ..receivers import wait_for
from .conftest import mail_row, mail_url, settled

TEST_FORM = 'form[action="/admin/mail/test"]'


def rows(page):
    """Return the mail list as a person reads it, by row id."""
    def text(tr, selector):
        cell = tr.select_one(selector)
        return cell.get_text(" ", strip=True) if cell else None
    return {tr["id"]: {name: text(tr, f".mail-{name}") for name in (
        "to", "subject", "purpose", "state", "attempts", "error")}
        for tr in soup(page).select("table.mail-log tbody tr")}


def test_the_test_mail_reaches_the_admins_own_inbox_and_the_page_says_so(admin, mailing):
    page = admin.get("/admin/mail")
    assert page.status_code == 200
    assert "mailto://127.0.0.1" in page.text and "kulak@example.com" in page.text
    sent = admin.submit(page, TEST_FORM)
    assert sent.status_code == 303 and sent.headers["Location"] == "/admin/mail"
    assert wait_for(lambda: mailing.messages)
    [arrived] = mailing.messages
    assert arrived["to"] == ["admin@demo.example"]
    assert "Subject: Kulak test mail" in arrived["content"]
    assert "This is a test mail from Kulak for Demo Hotel." in arrived["content"]
    answer = admin.get("/admin/mail")
    assert "The mail server accepted the test mail to admin@demo.example" in \
        soup(answer).select_one('[role="status"]').get_text()
    [mail] = db.session.scalars(db.select(OutgoingMail)).all()
    assert (mail.purpose, mail.brand_id, mail.status) == ("test", admin.member.brand_id, "sent")
    assert rows(answer)[f"mail-{mail.id}"] == {
        "to": "admin@demo.example", "subject": "Kulak test mail", "purpose": "Test",
        "state": "sent", "attempts": "1 attempt", "error": None}


def test_a_test_mail_that_cannot_go_out_says_why(admin, app, monkeypatch, quick_retries):
    port = free_port()  # no server here
    monkeypatch.setitem(app.config, "MAIL_URL", f"mailto://127.0.0.1:{port}?from=k@example.com")
    admin.submit(admin.get("/admin/mail"), TEST_FORM)
    [alert] = soup(admin.get("/admin/mail")).select('p.error[role="alert"]')
    assert f"did not go out: The mail server 127.0.0.1:{port} refused the connection" in \
        alert.get_text()
    settled(db.session.scalar(db.select(OutgoingMail.id)))


def test_a_mail_that_failed_for_good_shows_as_failed_with_its_reason(
        admin, app, demo, monkeypatch, quick_retries):
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_URL", f"mailto://127.0.0.1:{port}?from=k@example.com")
    mail = send_mail("new.agent@demo.example", "You are invited", "Join us.", brand_id=demo.id,
                     purpose="invitation")
    assert settled(mail.id).status == "failed"
    page = admin.get("/admin/mail")
    row = rows(page)[f"mail-{mail.id}"]
    assert {k: row[k] for k in ("to", "subject", "purpose", "state", "attempts")} == {
        "to": "new.agent@demo.example", "subject": "You are invited", "purpose": "Invitation",
        "state": "failed", "attempts": "5 attempts"}
    assert f"The mail server 127.0.0.1:{port} refused the connection" in row["error"]
    assert soup(page).select_one(f"#mail-{mail.id} strong.error.mail-state") is not None
    assert "1 of these mails could not be sent" in \
        soup(page).select_one('p.error[role="alert"]').get_text()


def test_the_page_never_shows_the_senders_password(admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_URL", "mailtos://kulak:S3cret-Pa55@smtp.example.com:587"
                                                "?from=Front desk<desk@hotel.example>")
    page = admin.get("/admin/mail")
    assert page.status_code == 200
    text = soup(page).get_text(" ")
    assert "mailtos://smtp.example.com" in text and "Front desk <desk@hotel.example>" in text
    assert "S3cret-Pa55" not in page.text and "kulak:" not in page.text


def test_without_a_sender_the_page_says_so_and_the_button_sends_nothing(admin):
    page = admin.get("/admin/mail")
    assert "No mail sender is configured" in page.text
    admin.submit(page, TEST_FORM)
    answer = soup(admin.get("/admin/mail"))
    assert "no mail went out" in answer.select_one('p.error[role="alert"]').get_text()
    assert db.session.scalars(db.select(OutgoingMail)).all() == []


def test_staff_below_admin_get_403_and_send_nothing(app, demo, mailing):
    for email in ("manager@demo.example", "agent@demo.example"):
        staff = Staff(app, email)
        assert staff.get("/admin/mail").status_code == 403
        assert staff.client.post("/admin/mail/test",
                                 data={"csrf_token": staff.token}).status_code == 403
        assert "/admin/mail" not in staff.get("/inbox/").text  # not in their menu either
    assert db.session.scalars(db.select(OutgoingMail)).all() == [] and mailing.messages == []


def test_a_post_without_the_csrf_token_sends_nothing(admin, mailing):
    assert admin.client.post("/admin/mail/test", data={}).status_code == 400
    assert db.session.scalars(db.select(OutgoingMail)).all() == []


def test_each_brand_sees_only_its_own_mail(app, demo, admin, mailing):
    other, owner, _token = create_brand("other-hotel", "Other Hotel", "owner@other.example")
    owner.set_password(DEMO_PASSWORD)
    db.session.commit()
    ours = send_mail("guest@demo.example", "Demo's own mail", "Hi", brand_id=demo.id,
                     purpose="transcript")
    theirs = send_mail("guest@other.example", "Other's secret mail", "Hi", brand_id=other.id,
                       purpose="transcript")
    nobodys = send_mail("ops@example.com", "Operator mail", "Hi", purpose="test")
    for mail in (ours, theirs, nobodys):
        settled(mail.id)
    demo_page = admin.get("/admin/mail")
    assert list(rows(demo_page)) == [f"mail-{ours.id}"]
    assert "Other's secret mail" not in demo_page.text and "Operator mail" not in demo_page.text
    other_page = Staff(app, "owner@other.example").get("/admin/mail")
    assert list(rows(other_page)) == [f"mail-{theirs.id}"]
    assert "Demo's own mail" not in other_page.text


def test_test_mails_are_rate_limited_per_admin(tmp_path, monkeypatch, smtp_server):
    # The limiter is one object shared by every app in this process: put it back afterwards.
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = create_app({"TESTING": True, "RATELIMIT_ENABLED": True,
                          "PUBLIC_URL": "http://kulak.test", "MAIL_URL": mail_url(smtp_server),
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'kulak.db'}"},
                         environ={"KULAK_INSTANCE": str(tmp_path)})
    limited.test_client_class = RequestPerContextClient  # a fresh g per request, as served
    smtp_server.messages.clear()
    with limited.app_context():
        upgrade()
        seed_demo(DEMO_PASSWORD)
        admin = Staff(limited, "admin@demo.example")
        token = {"csrf_token": form_values(soup(admin.get("/admin/mail")).select_one(
            TEST_FORM))["csrf_token"]}
        statuses = [admin.client.post("/admin/mail/test", data=token).status_code
                    for _ in range(4)]
        assert statuses == [303, 303, 303, 429]
        assert wait_for(lambda: len(smtp_server.messages) == 3)
        ids = db.session.scalars(db.select(OutgoingMail.id)).all()
        assert len(ids) == 3 and all(mail_row(i).status == "sent" for i in ids)
        db.session.remove()
        db.engine.dispose()
