"""Quiet hours and business hours hold alerts that are not urgent."""
import time as clock
from datetime import datetime, time, timedelta

from sqlalchemy import select

from models import AlertTarget, Conversation, Escalation, StaffMember, db
from models.common import utcnow

from ..receivers import wait_for
from .staff import customer_journey, soup


def test_next_opening_follows_the_brands_zone_and_days(demo):
    demo.timezone, demo.business_hours = "Europe/Istanbul", {"mon": ["09:00", "18:00"],
                                                             "tue": ["09:00", "18:00"]}
    monday_7_local = datetime(2026, 11, 23, 4, 0)  # 07:00 in Istanbul (UTC+3)
    assert demo.next_opening(monday_7_local) == datetime(2026, 11, 23, 6, 0)
    monday_noon_local = datetime(2026, 11, 23, 9, 0)
    assert demo.next_opening(monday_noon_local) == monday_noon_local  # open: now
    tuesday_evening = datetime(2026, 11, 24, 16, 0)  # 19:00 local, closed until next Monday
    assert demo.next_opening(tuesday_evening) == datetime(2026, 11, 30, 6, 0)
    demo.business_hours = {}
    assert demo.next_opening(tuesday_evening) == tuesday_evening


def test_quiet_hours_may_span_midnight():
    person = StaffMember(quiet_from=time(22, 0), quiet_until=time(7, 30))
    assert person.quiet_end(datetime(2026, 11, 22, 23, 0)) == datetime(2026, 11, 23, 7, 30)
    assert person.quiet_end(datetime(2026, 11, 23, 6, 0)) == datetime(2026, 11, 23, 7, 30)
    assert person.quiet_end(datetime(2026, 11, 23, 12, 0)) is None
    assert StaffMember().quiet_end(datetime(2026, 11, 23, 12, 0)) is None


def test_a_person_sets_quiet_hours_and_only_urgent_alerts_reach_them_then(
        client, demo, agent, people, http_receiver):
    now = demo.local(utcnow())
    page = agent.get("/inbox/alerts")
    quiet = agent.submit(page, "#quiet-hours",
                         quiet_from=(now - timedelta(hours=1)).strftime("%H:%M"),
                         quiet_until=(now + timedelta(hours=2)).strftime("%H:%M"))
    assert quiet.status_code == 303
    db.session.add(AlertTarget(brand_id=demo.id, staff_id=people["agent"].id, label="Phone",
                               url=f"json://127.0.0.1:{http_receiver.port}/agent"))
    db.session.commit()
    customer_journey(client, "Could we have an extra blanket please?")
    assert not wait_for(lambda: http_receiver.requests, seconds=1.5)  # held until morning
    customer_journey(client, "There is smoke coming out of the socket in our room, help")
    assert wait_for(lambda: http_receiver.requests, seconds=10)  # urgent goes through
    assert len(http_receiver.requests) == 1
    assert http_receiver.json_bodies()[0]["title"].startswith("URGENT")


def test_one_sided_quiet_hours_are_refused(agent):
    refused = agent.submit(agent.get("/inbox/alerts"), "#quiet-hours", quiet_from="22:00",
                           quiet_until="")
    assert refused.status_code == 422
    assert "Please give both the start and the end of your quiet hours" in refused.text


def test_while_closed_a_level_waits_for_the_opening_unless_urgent(client, demo):
    demo.business_hours = {"sun": ["00:00", "00:01"]}  # open one minute a week
    db.session.commit()
    customer_journey(client, "Could we have an extra blanket please?")
    customer_journey(client, "There is smoke coming out of the socket in our room, help")
    db.session.expire_all()
    for convo in db.session.scalars(select(Conversation)):
        first = db.session.scalar(select(Escalation).filter_by(conversation_id=convo.id)
                                  .order_by(Escalation.due_at))
        wait = (first.due_at - convo.created_at).total_seconds()
        if convo.urgency == "urgent":
            assert round(wait) == 60  # the demo's urgent level: 1 minute, open or not
        else:
            assert wait > 180 or demo.next_opening(convo.created_at) == convo.created_at


def test_an_escalated_conversation_is_marked_in_the_inbox(client, demo, agent):
    from app.alerts.escalation import escalate
    customer_journey(client, "Could we have an extra blanket please?")
    db.session.expire_all()
    escalation = db.session.scalar(select(Escalation).order_by(Escalation.due_at))
    escalation.due_at = utcnow()
    db.session.commit()
    assert escalate(escalation.id) == "fired"
    row = soup(agent.get("/inbox/?view=all")).select_one(".row")
    assert "Escalated" in row.select_one(".badges").get_text()


def test_a_held_alert_whose_job_was_lost_is_sent_by_the_sweep_once(
        app, client, demo, agent, people, http_receiver):
    import threading

    from app.alerts.outbox import sweep_forever
    from models import AlertDelivery
    now = demo.local(utcnow())
    agent.submit(agent.get("/inbox/alerts"), "#quiet-hours",
                 quiet_from=(now - timedelta(hours=1)).strftime("%H:%M"),
                 quiet_until=(now + timedelta(hours=2)).strftime("%H:%M"))
    db.session.add(AlertTarget(brand_id=demo.id, staff_id=people["agent"].id, label="Phone",
                               url=f"json://127.0.0.1:{http_receiver.port}/agent"))
    db.session.commit()
    customer_journey(client, "Could we have an extra blanket please?")
    assert wait_for(lambda: db.session.scalar(select(AlertDelivery.status).execution_options(
        populate_existing=True)) == "held")
    held = db.session.scalar(select(AlertDelivery))
    assert held.send_after > utcnow() + timedelta(minutes=30)
    held.send_after = utcnow() - timedelta(seconds=10)  # its time came; its timer never will
    db.session.commit()
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_forever, args=(app, stop), daemon=True)
    sweeper.start()
    try:
        assert wait_for(lambda: http_receiver.requests, seconds=10)
        clock.sleep(2.5)  # the next sweeps find it sent
    finally:
        stop.set()
        sweeper.join(5)
    assert len(http_receiver.requests) == 1
    db.session.expire_all()
    assert db.session.scalar(select(AlertDelivery.status)) == "sent"
