"""Escalation: a conversation nobody acts on climbs the brand's levels at their deadlines,
once per level however many workers run, and stops as soon as staff do what it waits for."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from app.alerts.escalation import escalate
from app.demo import seed_demo
from models import AlertTarget, Conversation, Escalation, EscalationLevel, Message, db
from models.common import utcnow

from ..conftest import DEMO_PASSWORD
from ..receivers import wait_for
from .conftest import REDIS_URL, start_worker, stop_worker
from .staff import REPLY, customer_journey, soup


def policy(brand, *levels):
    """Replace the brand's levels: (waits_for, seconds, urgent seconds, action, kind, value)."""
    db.session.execute(delete(EscalationLevel).filter_by(brand_id=brand.id))
    db.session.add_all([
        EscalationLevel(brand_id=brand.id, position=i, waits_for=w, after_seconds=s,
                        urgent_after_seconds=u, action=a, target_kind=k, target_value=v)
        for i, (w, s, u, a, k, v) in enumerate(levels)])
    db.session.commit()


def hook(staff, receiver, path):
    db.session.add(AlertTarget(brand_id=staff.brand_id, staff_id=staff.id, label=path,
                               url=f"json://127.0.0.1:{receiver.port}/{path}"))
    db.session.commit()


def escalated(receiver):
    """The escalation alerts a receiver got (a new conversation alerts its team too)."""
    return [b for b in receiver.json_bodies() if "escalated" in b["title"]]


def opened(client, body="Could we have an extra blanket?"):
    token = customer_journey(client, body)
    db.session.expire_all()
    return db.session.scalar(select(Conversation).filter_by(token=token))


def due_now(convo):
    """Bring the conversation's first level's deadline to now; return that level."""
    escalation = db.session.scalar(select(Escalation).filter_by(conversation_id=convo.id))
    escalation.due_at = utcnow()
    db.session.commit()
    return escalation


def timeline(convo):
    db.session.expire_all()
    return db.session.execute(select(Message.body, Message.internal).filter_by(
        conversation_id=convo.id, author_kind="system").order_by(Message.id)).all()[1:]


def test_the_demo_policy_is_three_and_ten_minutes_one_and_three_when_urgent(demo):
    levels = EscalationLevel.for_brand(demo.id)
    assert [(lv.after_seconds, lv.urgent_after_seconds, lv.action, lv.target_value)
            for lv in levels] == [(180, 60, "alert", "lead"), (600, 180, "reassign", "manager")]
    seed_demo(DEMO_PASSWORD)  # seeding again keeps one policy, not two
    assert len(EscalationLevel.for_brand(demo.id)) == 2


def test_a_level_fires_at_its_deadline_and_both_sides_see_it(client, demo, people,
                                                            http_receiver):
    policy(demo, ("reply", 1, 1, "alert", "role", "lead"))
    hook(people["lead"], http_receiver, "lead")
    convo = opened(client)
    assert wait_for(lambda: escalated(http_receiver), seconds=10)
    late = utcnow() - convo.created_at
    assert late.total_seconds() >= 1.0  # not before the deadline
    [alert] = escalated(http_receiver)
    assert "escalated, no staff reply after" in alert["title"]
    assert f"/inbox/c/{convo.id}" in alert["message"]
    assert wait_for(lambda: len(timeline(convo)) == 2)
    (staff_line, internal), (customer_line, shown) = timeline(convo)
    assert internal and "Escalated: no staff reply" in staff_line and "Mehmet Kaya" in staff_line
    assert not shown and "escalated" in customer_line
    assert "has been escalated" in soup(client.get(f"/c/{convo.token}")).get_text()


def test_a_staff_reply_before_the_deadline_stops_the_whole_chain(client, demo, people, agent,
                                                                 http_receiver):
    policy(demo, ("reply", 2, 2, "alert", "role", "lead"),
           ("reply", 3, 3, "reassign", "role", "manager"))
    hook(people["lead"], http_receiver, "lead")
    hook(people["manager"], http_receiver, "manager")
    convo = opened(client)
    assert agent.act(convo.id, REPLY, body="On its way!").status_code == 303
    time.sleep(3.5)
    assert escalated(http_receiver) == []
    db.session.expire_all()
    escalations = db.session.scalars(select(Escalation).filter_by(conversation_id=convo.id))
    assert [(e.fired_at, e.stopped_at is not None) for e in escalations] == [(None, True)] * 2
    assert db.session.get(Conversation, convo.id).assignee_id != people["manager"].id


def test_a_level_run_by_two_workers_at_once_fires_once(client, demo, people, http_receiver,
                                                       app):
    policy(demo, ("reply", 3600, 3600, "reassign", "role", "manager"))
    hook(people["manager"], http_receiver, "manager")
    convo = opened(client, "Still no towels in room 412")
    escalation = due_now(convo)
    outcomes = []

    def worker():
        with app.app_context():
            outcomes.append(escalate(escalation.id))
            db.session.remove()
    workers = [threading.Thread(target=worker) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert outcomes.count("fired") == 1 and outcomes.count(None) == 3
    assert wait_for(lambda: len(escalated(http_receiver)) == 1)
    time.sleep(0.3)
    assert len(escalated(http_receiver)) == 1 and len(timeline(convo)) == 2
    db.session.expire_all()
    assert db.session.get(Conversation, convo.id).assignee_id == people["manager"].id


@pytest.mark.parametrize("waits_for", ["seen", "note", "resolved"])
def test_each_awaited_action_stops_its_level(client, demo, agent, waits_for):
    policy(demo, (waits_for, 3600, 3600, "alert", "role", "lead"))
    convo = opened(client)
    escalation = due_now(convo)
    if waits_for == "seen":
        agent.get(f"/inbox/c/{convo.id}")
    elif waits_for == "note":
        assert agent.act(convo.id, "#note-form", note="Calling the room").status_code == 303
    else:
        assert agent.act(convo.id, 'form[action$="/resolve"]').status_code == 303
    db.session.expire_all()
    # The action's own change may already have run the level's job on a thread of this
    # process (None: stopped by that run); either way the level ends stopped, never fired.
    assert escalate(escalation.id) in ("stopped", None)
    db.session.expire_all()
    ended = db.session.get(Escalation, escalation.id)
    assert ended.stopped_at is not None and ended.fired_at is None
    assert [body for body, _ in timeline(convo) if "scalated" in body] == []


def test_a_level_whose_action_has_not_happened_fires(client, demo):
    policy(demo, ("note", 3600, 3600, "alert", "role", "lead"))
    convo = opened(client)
    escalation = due_now(convo)
    assert escalate(escalation.id) == "fired"
    assert escalate(escalation.id) is None  # a retry after it fired does nothing


def test_urgent_conversations_get_the_shorter_deadlines(client, demo):
    policy(demo, ("reply", 600, 5, "alert", "role", "lead"))
    convo = opened(client, "There is smoke coming out of the socket in our room, help")
    assert convo.urgency == "urgent"
    [escalation] = db.session.scalars(select(Escalation).filter_by(conversation_id=convo.id))
    assert round((escalation.due_at - convo.created_at).total_seconds()) == 5


@pytest.mark.postgresql_only
def test_through_two_real_workers_the_scheduled_level_fires_once_on_time(
        app, client, demo, people, monkeypatch, worker_process, http_receiver, tmp_path):
    second = start_worker(app, tmp_path / "second")
    try:
        policy(demo, ("reply", 3, 3, "alert", "role", "lead"))
        hook(people["lead"], http_receiver, "lead")
        monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
        convo = opened(client)
        escalation = db.session.scalar(select(Escalation).filter_by(conversation_id=convo.id))
        assert escalation.scheduled_at is not None  # handed to RQ's scheduler at once
        assert wait_for(lambda: escalated(http_receiver), seconds=20), (
            "no escalation within 20 s", (tmp_path / "worker.log").read_text()[-3000:])
        lateness = (utcnow() - escalation.due_at).total_seconds()
        assert 0 <= lateness < 5, lateness  # never before the deadline
        time.sleep(2.5)  # both workers' sweeps have looked at it meanwhile
        assert len(escalated(http_receiver)) == 1 and len(timeline(convo)) == 2
    finally:
        stop_worker(second)


def test_a_level_queued_too_early_waits_for_its_deadline(client, demo):
    policy(demo, ("reply", 3600, 3600, "alert", "role", "lead"))
    convo = opened(client)
    escalation = due_now(convo)
    escalation.due_at = utcnow() + timedelta(seconds=0.6)
    db.session.commit()
    started = time.monotonic()
    assert escalate(escalation.id) == "fired"
    assert time.monotonic() - started >= 0.5
    db.session.expire_all()
    fired = db.session.get(Escalation, escalation.id)
    assert fired.fired_at >= fired.due_at


def test_a_level_can_tag_the_conversation_urgent(client, demo, agent):
    policy(demo, ("reply", 3600, 3600, "tag_urgent", "role", "lead"))
    convo = opened(client)
    assert convo.urgency == "normal"
    assert escalate(due_now(convo).id) == "fired"
    db.session.expire_all()
    marked = db.session.get(Conversation, convo.id)
    assert marked.urgency == "urgent" and marked.escalated_level == 1
    assert "Tagged urgent; alerted Mehmet Kaya" in timeline(convo)[0][0]
    assert soup(agent.get("/inbox/?view=all")).select_one(".row.is-urgent") is not None


def test_without_redis_the_web_process_sweep_fires_a_level_whose_timer_was_lost(
        app, client, demo, people, http_receiver):
    """A restart loses the in-process timers; the sweep finds the overdue level in the table."""
    from app.alerts.outbox import sweep_forever
    policy(demo, ("reply", 3600, 3600, "alert", "role", "lead"))
    hook(people["lead"], http_receiver, "lead")
    convo = opened(client)
    escalation = due_now(convo)  # due now, but its timer (an hour away) will never run
    escalation.due_at = utcnow() - timedelta(seconds=10)
    db.session.commit()
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_forever, args=(app, stop), daemon=True)
    sweeper.start()
    try:
        assert wait_for(lambda: escalated(http_receiver), seconds=10)
    finally:
        stop.set()
        sweeper.join(5)
    assert len(escalated(http_receiver)) == 1
