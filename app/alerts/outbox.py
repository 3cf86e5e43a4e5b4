"""The transactional outbox: record work with the change that causes it, relay it to the queue.

`record` adds an event to the session of the change, so both commit or neither does. `relay`
hands committed events to the queue and marks them; when Redis is down they stay unmarked and
the next relay (after the next commit, or the worker's sweep every few seconds) tries again.
"""
import logging
import time
from datetime import timedelta

from flask import g

from app import jobs
from app.core import outage
from models import OutboxEvent, db
from models.alerting import ALERTING_KINDS
from models.common import utcnow

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0
SWEEP_GRACE = timedelta(seconds=3)


def record(conversation, kind, message=None, **payload):
    """Add an outbox event for `conversation` to the current session (not committed).

    Events that do not alert staff (those other than a new or escalated conversation) are
    only recorded when one of the brand's webhooks listens to them."""
    # No autoflush: a retried post's duplicate message must surface at its commit, where the
    # caller handles it, not in the brand's lazy load here.
    with db.session.no_autoflush:
        listened = conversation.brand.webhook_events or ()
    if kind not in ALERTING_KINDS and kind not in listened:
        return None
    event = OutboxEvent(brand_id=conversation.brand.id, conversation=conversation, kind=kind,
                        payload=payload)
    if message is not None:
        # A message written by Core (the customer post) has its id; an ORM one gets it at flush.
        if message.id is not None:
            event.message_id = message.id
        else:
            event.message = message
    db.session.add(event)
    g.setdefault("kulak_outbox", []).append(event)
    return event


def relay_if_recorded():
    """Relay, after its commit, what this request or job recorded (called by domain events).

    Only its own events: with a hundred conversations opening at once, each request relaying
    everything unrelayed would queue every event a hundred times."""
    events = [e for e in g.pop("kulak_outbox", []) if e.id is not None]
    if events:
        relay(OutboxEvent.unrelayed(ids=[e.id for e in events]),
              [e.conversation_id for e in events if e.kind == "conversation.created"])


def relay(events, new_conversation_ids=None):
    """Queue committed, unrelayed `events`, then schedule the escalation levels of the
    conversations named (None: every level still unscheduled); return how many were queued."""
    from app.alerts.escalation import schedule_pending
    from app.alerts.service import dispatch
    queued = 0
    for event in events:
        try:
            jobs.enqueue(dispatch, event.id, queue=jobs.ALERTS, job_id=jobs.job_id("event", event.id))
        except Exception as error:  # noqa: BLE001 - Redis down: the sweep retries later
            log.warning("outbox: event %s stays queued here until the queue is back (%s)",
                        event.id, error)
            break
        # Marked only after the queue has it: a crash in between relays it twice, and the
        # job, being idempotent, still alerts once.
        db.session.execute(db.update(OutboxEvent).where(OutboxEvent.id == event.id)
                           .values(relayed_at=utcnow()))
        db.session.commit()
        queued += 1
    db.session.rollback()
    if new_conversation_ids == []:
        return queued  # no new conversation: no levels to schedule
    try:
        schedule_pending(new_conversation_ids)
    except Exception as error:  # noqa: BLE001 - Redis down: the sweep queues them when due
        log.warning("escalations stay planned in the database (%s)", error)
        db.session.rollback()
    return queued


def sweep_forever(app, stop=None):
    """Relay what the web processes could not (Redis was down), and queue overdue escalation
    levels, webhook attempts, mail, SMS and missed replies, every second (the worker's sweep
    process)."""
    from app import mail
    from app.alerts import escalation, service, webhooks
    from app.reach import away, sending
    while stop is None or not stop.is_set():
        with app.app_context():
            try:
                # Events younger than the grace are still being relayed by their request.
                relay(OutboxEvent.unrelayed(older_than=SWEEP_GRACE))
                relay(OutboxEvent.stalled(timedelta(
                    seconds=app.config["OUTBOX_REDISPATCH_SECONDS"])), [])
                escalation.queue_overdue()
                webhooks.queue_overdue()
                service.queue_held_and_due(SWEEP_GRACE)
                mail.queue_stalled()
                sending.queue_stalled_sms(SWEEP_GRACE)
                away.queue_overdue(SWEEP_GRACE)
            except Exception as error:  # noqa: BLE001 - the database may be restarting
                if outage.is_outage(error):
                    outage.noted(app, error)  # one line per outage, then try again
                else:
                    log.exception("outbox sweep failed")
            finally:
                db.session.remove()
        time.sleep(SWEEP_SECONDS)
