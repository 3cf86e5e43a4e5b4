"""Replies while away: the staff replies a customer missed reach them in one mail or SMS,
through a real SMTP server and a real HTTP gateway, once, and never what they saw."""
import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts.outbox import sweep_forever
from app.reach import away, sending
from models import Conversation, Message, db
from models.common import utcnow

from ..inbox.staff import NOTE, REPLY, Staff, conversation
from ..receivers import wait_for
from .delivered import all_delivered, notices, texts

GUEST, PHONE = "guest@example.com", "+905321234567"
REPLIES = ("Your towels are on the way.", "Housekeeping is at your door <b>now</b>.",
           "Anything else, just write.")


@pytest.fixture
def agent(app, demo):
    return Staff(app, "agent@demo.example")


@pytest.fixture(autouse=True)
def no_timer_outlives_the_test():
    """Cancel the away jobs a test left waiting (an hour's window), so none fires later."""
    yield
    for job in away_jobs():
        if isinstance(job, threading.Timer):
            job.cancel()


def away_jobs():
    """The away jobs of this process: timers waiting for a window's end, threads running."""
    return [t for t in threading.enumerate()
            if (isinstance(t, threading.Timer) and t.args[1:2] == (away.send_away_replies,))
            or t.name == "kulak-job-send_away_replies"]


def jobs_done(seconds=15):
    assert wait_for(lambda: not any(t.is_alive() for t in away_jobs()), seconds)


def away_from(brand, channel="email", address=GUEST, delay=2, **columns):
    """A conversation whose customer left `address` and is away; windows last `delay` s."""
    brand.away_delay_seconds = delay
    db.session.commit()
    return conversation(brand, reach_channel=channel, reach_address=address, **columns)


def reply(staff, convo, *bodies):
    for body in bodies:
        assert staff.act(convo.id, REPLY, body=body).status_code == 303


def fresh(convo):
    db.session.rollback()
    return db.session.get(Conversation, convo.id, populate_existing=True)


def staff_ids(convo):
    return db.session.scalars(select(Message.id).filter_by(
        conversation_id=convo.id, author_kind="staff", internal=False).order_by(Message.id)).all()


def link_of(convo):
    return f"http://kulak.test/c/{convo.token}"


def test_three_replies_in_a_window_go_in_one_mail_with_the_link(app, demo, agent, smtp, client):
    convo = away_from(demo)
    reply(agent, convo, *REPLIES)
    assert fresh(convo).away_due_at is not None
    assert wait_for(lambda: smtp.messages, 15)
    jobs_done()
    [notice] = all_delivered()
    [mail] = smtp.messages
    assert mail["to"] == [GUEST]
    subject, text, html = texts(mail)
    assert subject == "Demo Hotel replied to your message"
    assert [text.index(body) for body in REPLIES] == sorted(text.index(b) for b in REPLIES)
    assert re.search(r"Ayşe Demir · \d\d:\d\d\n" + re.escape(REPLIES[0]), text)
    assert link_of(convo) in text and f'href="{link_of(convo)}"' in html
    assert "Demo Hotel" in text and "turn them off" in text
    # The customer's words are text in the HTML part, never markup.
    assert "&lt;b&gt;now&lt;/b&gt;" in html and "<b>now</b>" not in html
    newest = staff_ids(convo)[-1]
    assert (notice.purpose, notice.channel, notice.through_message_id) == (
        "replies", "email", newest)
    stored = fresh(convo)
    assert (stored.notified_message_id, stored.away_due_at) == (newest, None)
    page = client.get(link_of(convo).removeprefix("http://kulak.test"))
    assert page.status_code == 200 and REPLIES[2] in page.text

    reply(agent, convo, "Breakfast is served until ten.")  # a new window opens
    assert wait_for(lambda: len(smtp.messages) == 2, 15)
    jobs_done()
    assert len(all_delivered()) == 2
    _subject, second, _html = texts(smtp.messages[1])
    assert "Breakfast is served until ten." in second
    assert not any(body in second for body in REPLIES)
    assert len(smtp.messages) == 2


def test_a_customer_who_turned_replies_off_gets_nothing(app, demo, agent, smtp):
    convo = away_from(demo, reach_replies=False)
    reply(agent, convo, REPLIES[0])
    assert fresh(convo).away_due_at is None and away_jobs() == []
    # Turned off while a window was open: the window ends without a message.
    on = away_from(demo)
    reply(agent, on, REPLIES[0])
    stored = fresh(on)
    stored.reach_replies = False
    db.session.commit()
    jobs_done()
    assert fresh(on).away_due_at is None
    assert notices() == [] and smtp.messages == []


def test_replies_the_customer_saw_are_not_sent(app, demo, agent, smtp):
    convo = away_from(demo)
    reply(agent, convo, *REPLIES[:2])
    Conversation.customer_saw(convo.id, staff_ids(convo)[-1])  # their page showed them
    db.session.commit()
    jobs_done()
    assert fresh(convo).away_due_at is None
    assert notices() == [] and smtp.messages == []


def test_an_internal_note_alone_sends_nothing(app, demo, agent, smtp):
    convo = away_from(demo)
    assert agent.act(convo.id, NOTE, note="Guest seemed upset; comp the minibar.").status_code \
        == 303
    assert fresh(convo).away_due_at is None and away_jobs() == []
    # Were a note ever announced as a posted message, it would still open no window.
    note = db.session.scalar(select(Message).filter_by(conversation_id=convo.id, internal=True))
    away.on_message_posted(note)
    assert fresh(convo).away_due_at is None and away_jobs() == []
    assert notices() == [] and smtp.messages == []


def test_without_a_channel_a_reply_schedules_nothing(app, demo, agent):
    convo = away_from(demo)  # no mail sender, no SMS gateway
    assert sending.channels(demo) == ()
    reply(agent, convo, REPLIES[0])
    stored = fresh(convo)
    assert stored.away_due_at is None and away_jobs() == []
    assert [m.body for m in stored.messages if m.author_kind == "staff"] == [REPLIES[0]]
    assert notices() == []


def gateway(brand, receiver):
    brand.sms_url = f"json://127.0.0.1:{receiver.port}/sms"
    db.session.commit()


def test_three_replies_go_in_one_text_through_the_gateway(app, demo, agent, http_receiver):
    gateway(demo, http_receiver)
    convo = away_from(demo, channel="sms", address=PHONE)
    reply(agent, convo, *REPLIES)
    assert wait_for(lambda: http_receiver.requests, 15)
    jobs_done()
    [notice] = all_delivered()
    [posted] = http_receiver.requests
    assert posted["path"] == "/sms"
    body = json.loads(posted["body"])
    assert body["to"] == PHONE  # the number the customer gave, added to the brand's URL
    message = body["message"]
    assert message.startswith("Demo Hotel")
    assert all(f"Ayşe Demir: {text}" in message for text in REPLIES)
    assert message.rstrip().endswith(link_of(convo))
    assert len(message) <= sending.SMS_MAX
    assert (notice.channel, notice.status, notice.text) == ("sms", "sent", None)
    assert fresh(convo).notified_message_id == staff_ids(convo)[-1]


def test_a_long_text_keeps_the_link_whole(app, demo, agent, http_receiver):
    gateway(demo, http_receiver)
    convo = away_from(demo, channel="sms", address=PHONE)
    reply(agent, convo, "A" * 900, "B" * 900)
    assert wait_for(lambda: http_receiver.requests, 15)
    jobs_done()
    message = json.loads(http_receiver.requests[0]["body"])["message"]
    assert len(message) <= sending.SMS_MAX and message.rstrip().endswith(link_of(convo))
    assert "A…" in message and "B…" in message


def test_a_turkish_conversations_mail_is_in_turkish(app, demo, agent, smtp):
    convo = away_from(demo, language="tr")
    reply(agent, convo, "Havlularınız yolda.")
    assert wait_for(lambda: smtp.messages, 15)
    jobs_done()
    subject, text, html = texts(smtp.messages[0])
    assert subject == "Demo Hotel mesajınıza yanıt verdi"
    assert text.startswith("Merhaba,") and "Siz yokken Demo Hotel size yanıt verdi:" in text
    assert "Sohbeti aç" in html and 'lang="tr"' in html
    assert "replied" not in text and "Havlularınız yolda." in text


def lose_the_timer():
    """A restart: the window's timer is gone, the window stays in the table."""
    for job in away_jobs():
        job.cancel()
        job.join(5)


def open_window_past_due(convo):
    """The window as the table has it once due (its own timer is an hour away)."""
    db.session.execute(db.update(Conversation).where(Conversation.id == convo.id)
                       .values(away_due_at=utcnow() - timedelta(seconds=10)))
    db.session.commit()


def test_the_job_run_twice_or_at_once_sends_once(app, demo, agent, smtp):
    convo = away_from(demo, delay=3600)
    reply(agent, convo, *REPLIES)
    open_window_past_due(convo)
    barrier, results = threading.Barrier(2), []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(away.send_away_replies(convo.id) is not None)
            db.session.remove()
    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(15)
    assert sorted(results) == [False, True]
    assert away.send_away_replies(convo.id) is None  # and once more, later
    assert wait_for(lambda: smtp.messages, 15)
    assert len(all_delivered()) == 1 and len(smtp.messages) == 1


def test_the_sweep_sends_a_window_whose_job_was_lost(app, demo, agent, smtp):
    convo = away_from(demo, delay=3600)
    reply(agent, convo, *REPLIES)
    lose_the_timer()
    open_window_past_due(convo)
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_forever, args=(app, stop), daemon=True)
    sweeper.start()
    try:
        assert wait_for(lambda: smtp.messages, 15)
        jobs_done()
    finally:
        stop.set()
        sweeper.join(5)
    [mail] = smtp.messages
    assert all(body in texts(mail)[1] for body in REPLIES)
    assert fresh(convo).away_due_at is None
    # Queued once: the window is pushed forward as it is queued, and then closed by the job.
    assert away.queue_overdue(timedelta(seconds=3)) == 0


def test_queue_overdue_queues_only_windows_past_the_grace(app, demo, agent, smtp):
    convo = away_from(demo, delay=3600)
    reply(agent, convo, REPLIES[0])
    assert away.queue_overdue(timedelta(seconds=3)) == 0  # due in an hour
    lose_the_timer()
    open_window_past_due(convo)
    assert away.queue_overdue(timedelta(seconds=3)) == 1
    assert away.queue_overdue(timedelta(seconds=3)) == 0  # pushed forward: not twice
    assert wait_for(lambda: smtp.messages, 15)
    jobs_done()
    assert len(all_delivered()) == 1


def test_a_gateway_inside_is_refused_by_policy_without_the_allow_list(
        app, demo, agent, http_receiver, monkeypatch):
    gateway(demo, http_receiver)
    monkeypatch.setitem(app.config, "EGRESS_ALLOW", ())
    monkeypatch.setattr(sending, "SMS_BACKOFF_SECONDS", (0.1, 0.1, 0.1))
    convo = away_from(demo, channel="sms", address=PHONE, delay=1)
    reply(agent, convo, *REPLIES)
    assert wait_for(lambda: notices() and notices()[0].status == "failed", 15)
    jobs_done()
    [notice] = all_delivered()
    assert notice.attempts == 4 and notice.text is None
    assert notice.last_error.startswith("refused by policy")
    assert http_receiver.requests == []
