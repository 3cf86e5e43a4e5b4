"""Mail reaches a real SMTP server once, is retried while it is down, and outlives lost jobs."""
import asyncio
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from app import jobs
from app.mail import deliver_mail, queue_stalled, send_mail, sending
from models import OutgoingMail, db
from models.common import utcnow

from ..conftest import free_port
from ..receivers import SmtpInbox, wait_for
from .conftest import LEAKS, mail_row, settled

TEXT = "Hello Ayşe,\n\nChoose a new password here:\nhttps://kulak.test/inbox/password/abc\n"
HTML = '<p>Hello Ayşe,</p><p><a href="https://kulak.test/inbox/password/abc">Choose</a></p>'


def parsed(message):
    """The message as a mail program reads it (SMTP's line ends made Python's)."""
    raw = message["content"].replace("\r\n", "\n").encode("utf-8")
    return message_from_bytes(raw, policy=policy.default)


def test_a_mail_arrives_with_its_subject_text_and_html_and_is_marked_sent(app, demo, mailing):
    mail = send_mail("ayse@demo.example", "Reset your password", TEXT, html=HTML,
                     brand_id=demo.id, purpose="reset")
    assert (mail.status, mail.attempts, mail.brand_id) == ("queued", 0, demo.id)
    assert wait_for(lambda: mailing.messages)
    [arrived] = mailing.messages
    assert arrived["to"] == ["ayse@demo.example"]  # never the URL's own to= or cc=
    message = parsed(arrived)
    assert message["Subject"] == "Reset your password"
    assert message["From"] == "kulak@example.com" and message["To"] == "ayse@demo.example"
    assert not any(leak in arrived["content"] for leak in LEAKS)
    assert message.get_content_type() == "multipart/alternative"
    # The plain part is the caller's own text, link included, not one made from the HTML.
    assert message.get_body(("plain",)).get_content() == TEXT
    assert message.get_body(("html",)).get_content().strip() == HTML
    row = settled(mail.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    assert (row.text, row.html) == ("", None)  # a link in it was a credential: not kept


def test_a_mail_without_html_is_plain_text_only(app, mailing):
    mail = send_mail("ayse@demo.example", "Plain", "Just text.\n", purpose="test")
    assert wait_for(lambda: mailing.messages)
    message = parsed(mailing.messages[0])
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Just text.\n"
    assert settled(mail.id).status == "sent"


def test_a_sent_mail_is_not_sent_again(app, mailing):
    mail = send_mail("ayse@demo.example", "Once", "Only once.", purpose="test")
    assert settled(mail.id).status == "sent"
    assert deliver_mail(mail.id) is None  # a second run of the job, or a retry by RQ
    assert len(mailing.messages) == 1 and mail_row(mail.id).attempts == 1


class SlowInbox(SmtpInbox):
    """An SMTP server that takes its time over each message: two sends would overlap."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


def test_two_runs_at_once_send_one_mail(app, monkeypatch):
    slow = SlowInbox(free_port()).start()
    try:
        monkeypatch.setitem(app.config, "MAIL_URL", slow.url("operator@example.com"))
        # As send_mail keeps it, with its job run twice at the same moment.
        mail = OutgoingMail(purpose="test", to_address="ayse@demo.example", subject="Twice?",
                            text="Once only.", status="queued", attempts=0)
        db.session.add(mail)
        db.session.commit()
        start, results = threading.Barrier(2), []

        def run():
            with app.app_context():
                start.wait()
                results.append(deliver_mail(mail.id))
                db.session.remove()
        runs = [threading.Thread(target=run) for _ in range(2)]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join(20)
        assert sorted(results, key=str) == [None, "sent"]
        assert len(slow.messages) == 1 and mail_row(mail.id).attempts == 1
    finally:
        slow.stop()


def test_while_the_server_is_down_the_mail_is_retried_then_sent_when_it_is_back(
        app, monkeypatch):
    monkeypatch.setattr(sending, "BACKOFF_SECONDS", (0.2, 1, 1, 1))
    port = free_port()  # nobody listens here yet
    server = SmtpInbox(port)
    monkeypatch.setitem(app.config, "MAIL_URL", server.url("operator@example.com"))
    mail = send_mail("ayse@demo.example", "Later", "It arrives in the end.", purpose="test")
    # Two attempts made and failed; the next one waits for its time.
    assert wait_for(lambda: mail_row(mail.id).attempts == 2 and
                    mail_row(mail.id).status == "queued")
    down = mail_row(mail.id)
    assert f"The mail server 127.0.0.1:{port} refused the connection" in down.last_error
    assert "It arrives in the end" not in down.last_error and "Traceback" not in down.last_error
    server.start()
    try:
        row = settled(mail.id)
        assert (row.status, row.last_error) == ("sent", None)
        assert 3 <= row.attempts <= 5
        assert [m["to"] for m in server.messages] == [["ayse@demo.example"]]
    finally:
        server.stop()


def test_after_the_last_attempt_the_mail_is_failed(app, monkeypatch, quick_retries):
    monkeypatch.setitem(app.config, "MAIL_URL", f"mailto://127.0.0.1:{free_port()}"
                                                "?from=kulak@example.com")
    mail = send_mail("ayse@demo.example", "Never", "Nobody listens.", purpose="test")
    row = settled(mail.id)
    assert (row.status, row.attempts) == ("failed", len(sending.BACKOFF_SECONDS) + 1)
    assert "refused the connection" in row.last_error
    assert deliver_mail(mail.id) is None and mail_row(mail.id).attempts == 5


def test_without_a_sender_nothing_is_kept_or_queued_and_the_caller_is_told(app, monkeypatch):
    assert app.config["MAIL_URL"] is None
    queued = []
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: queued.append(args))
    monkeypatch.setattr(jobs, "enqueue_at", lambda *args, **kwargs: queued.append(args))
    assert send_mail("ayse@demo.example", "Hello", "Text", purpose="invitation") is None
    assert queued == [] and db.session.scalars(db.select(OutgoingMail)).all() == []


@pytest.mark.parametrize("to", ["", "not an address", "a@x.example, b@y.example",
                                "Ayşe <a@x.example>", "a@x.example\nBcc: b@y.example"])
def test_send_mail_refuses_anything_but_one_address(app, mailing, to):
    with pytest.raises(ValueError):
        send_mail(to, "Hello", "Text", purpose="test")
    assert db.session.scalars(db.select(OutgoingMail)).all() == []


def test_send_mail_refuses_an_unknown_purpose(app, mailing):
    with pytest.raises(ValueError, match="purpose"):
        send_mail("ayse@demo.example", "Hello", "Text", purpose="newsletter")


def due(mail_id, ago):
    """Make a mail's next attempt (or its claim) due `ago` before now."""
    db.session.execute(db.update(OutgoingMail).where(OutgoingMail.id == mail_id)
                       .values(due_at=utcnow() - ago))
    db.session.commit()


def test_a_mail_whose_job_never_got_queued_is_sent_by_the_sweep(app, mailing, monkeypatch):
    # Redis is down when the mail is sent: the request still succeeds, and the mail is kept.
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    mail = send_mail("ayse@demo.example", "Kept", "Not lost.", purpose="test")
    assert (mail_row(mail.id).status, mail_row(mail.id).attempts) == ("queued", 0)
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # the queue is back
    assert queue_stalled() == 0  # just queued: its job may be on its way
    due(mail.id, sending.QUEUED_GRACE - timedelta(seconds=2))
    assert queue_stalled() == 0
    due(mail.id, sending.QUEUED_GRACE + timedelta(seconds=2))
    assert queue_stalled() == 1
    assert settled(mail.id).status == "sent"
    assert len(mailing.messages) == 1
    assert queue_stalled() == 0


def test_a_retry_whose_timer_was_lost_is_queued_once_its_wait_is_over(app, mailing):
    # The process restarted after a failed attempt: the timer of the next one went with it.
    mail = OutgoingMail(purpose="test", to_address="ayse@demo.example", subject="Retry",
                        text="Second attempt.", status="queued", attempts=1,
                        due_at=utcnow() + timedelta(seconds=sending.BACKOFF_SECONDS[0]),
                        last_error="The mail server refused the connection")
    db.session.add(mail)
    db.session.commit()
    assert queue_stalled() == 0 and mailing.messages == []
    due(mail.id, sending.QUEUED_GRACE + timedelta(seconds=2))
    assert queue_stalled() == 1
    row = settled(mail.id)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_mail_claimed_by_a_worker_that_died_is_sent_later(app, mailing):
    mail = OutgoingMail(purpose="test", to_address="ayse@demo.example", subject="Orphan",
                        text="Its worker died mid-send.", status="sending", attempts=1,
                        due_at=utcnow())
    db.session.add(mail)
    db.session.commit()
    assert deliver_mail(mail.id) is None  # RQ running the job again: it is not this run's
    assert queue_stalled() == 0
    due(mail.id, sending.SENDING_GIVE_UP - timedelta(seconds=5))
    assert queue_stalled() == 0
    assert mailing.messages == []
    due(mail.id, sending.SENDING_GIVE_UP + timedelta(seconds=5))
    assert queue_stalled() == 1
    row = settled(mail.id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert [m["to"] for m in mailing.messages] == [["ayse@demo.example"]]
