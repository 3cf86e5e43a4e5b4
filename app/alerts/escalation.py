"""Escalation: climb a conversation up the brand's levels while nobody does what they wait for.

Each level is a job scheduled for its deadline (RQ's scheduler, or a timer without Redis);
the worker's sweep re-queues any level overdue by more than a few seconds, in case Redis lost
it. The job is idempotent: it claims its level with one conditional update before acting.
"""
import logging
import time
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _

from app import events, jobs
from app.alerts import outbox
from app.core.scoping import who_may_hold, who_see
from models import Escalation, Message, StaffMember, Team, db
from models.common import utcnow

log = logging.getLogger(__name__)
# A level this late was not run by its scheduled job (Redis restarted, worker down): run it.
OVERDUE_GRACE = timedelta(seconds=3)
# A job this much early waits; earlier than that, it is scheduled again for its deadline.
EARLY_WAIT_SECONDS = 1.5


def schedule_pending(conversation_ids=None):
    """Hand planned, unscheduled levels (of these conversations, else all) to the scheduler;
    return how many."""
    scheduled = 0
    for escalation in Escalation.unscheduled(conversation_ids):
        jobs.enqueue_at(_next_whole_second(escalation.due_at), escalate, escalation.id,
                        job_id=jobs.job_id("escalation", escalation.id))
        db.session.execute(db.update(Escalation).where(Escalation.id == escalation.id)
                           .values(scheduled_at=utcnow()))
        db.session.commit()
        scheduled += 1
    return scheduled


def _next_whole_second(moment):
    """RQ's scheduler works in whole seconds and may run a job up to a second early: asking
    for the next whole second keeps a level from ever firing before its deadline."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def queue_overdue():
    """Queue every level whose deadline passed without its job running; return how many."""
    overdue = Escalation.overdue(OVERDUE_GRACE)
    for escalation in overdue:
        jobs.enqueue(escalate, escalation.id, queue=jobs.ALERTS,
                     job_id=jobs.job_id("escalation", escalation.id))
    return len(overdue)


def awaited_done(conversation, waits_for):
    """True once staff did what a level waits for."""
    if waits_for == "reply":
        return conversation.first_response_at is not None
    if waits_for == "seen":
        return conversation.staff_seen_message_id is not None
    if waits_for == "resolved":
        return conversation.status == "resolved"
    return db.session.scalar(db.select(Message.id).filter_by(
        conversation_id=conversation.id, author_kind="staff", internal=True).limit(1)) is not None


def targets_of(level, conversation):
    """Return the active staff a level names who may be given `conversation` (a reassignment)
    or, for an alert, who see it: nobody is alerted about what they cannot open."""
    people = who_may_hold(conversation, _named_by(level, conversation.brand_id))
    return people if level.action == "reassign" else who_see(conversation, people)


def _named_by(level, brand_id):
    """Return the active staff of the brand a level names (a role, a team, or one person)."""
    query = db.select(StaffMember).filter_by(brand_id=brand_id, active=True)
    if level.target_kind == "role":
        return db.session.scalars(query.filter_by(role=level.target_value)
                                  .order_by(StaffMember.id)).all()
    if level.target_kind == "staff":
        return db.session.scalars(query.filter_by(id=int(level.target_value))).all()
    team = db.session.scalar(db.select(Team).filter_by(id=int(level.target_value),
                                                       brand_id=brand_id))
    return [m for m in team.members if m.active] if team else []


def escalate(escalation_id):
    """Fire one level unless what it waits for happened (an RQ job: safe to run twice)."""
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None or escalation.fired_at or escalation.stopped_at:
        return None  # gone with its level, fired already, or stopped
    early = (escalation.due_at - utcnow()).total_seconds()
    if early > EARLY_WAIT_SECONDS:  # queued far too soon (a clock step): try again on time
        jobs.enqueue_at(_next_whole_second(escalation.due_at), escalate, escalation.id,
                        job_id=jobs.job_id("escalation", escalation.id, "again"))
        return None
    if early > 0:
        time.sleep(early)
        db.session.expire_all()  # what staff did meanwhile counts
    conversation, level = escalation.conversation, escalation.level
    if awaited_done(conversation, level.waits_for):
        _stop_chain(escalation)
        return "stopped"
    # Claimed and acted on in one transaction: a second worker's claim waits for this one's
    # commit and then finds it fired; a worker killed in between leaves it unclaimed.
    claimed = db.session.execute(db.update(Escalation).where(
        Escalation.id == escalation.id, Escalation.fired_at.is_(None),
        Escalation.stopped_at.is_(None)).values(fired_at=utcnow()))
    if claimed.rowcount != 1:
        db.session.rollback()
        return None  # another worker fired it
    people = targets_of(level, conversation)
    if level.action == "reassign" and people:
        conversation.assignee = people[0]
        people = people[:1]
    elif level.action == "tag_urgent":
        conversation.retag({"urgency": {"label": "urgent", "by": "escalation"}})
    _record(conversation, level, people)
    conversation.escalated_level = max(conversation.escalated_level or 0, level.position + 1)
    # The alert goes out through the outbox like any other: once per target, held for quiet
    # hours unless urgent, and in the same commit as the escalation it reports.
    outbox.record(conversation, "conversation.escalated", level=level.position + 1,
                  action=level.action, waits_for=level.waits_for,
                  minutes=level.delay(conversation.urgency == "urgent").total_seconds() / 60,
                  staff_ids=[person.id for person in people])
    db.session.commit()
    events.conversation_changed.send(conversation)
    return "fired"


def _stop_chain(escalation):
    """Stop this level and every later one of the conversation: the awaited action came."""
    db.session.execute(db.update(Escalation).where(
        Escalation.conversation_id == escalation.conversation_id,
        Escalation.fired_at.is_(None), Escalation.stopped_at.is_(None),
        Escalation.due_at >= escalation.due_at).values(stopped_at=utcnow()))
    db.session.commit()


def _record(conversation, level, people):
    """Write the escalation into the timeline: a line for staff, and one for the customer."""
    minutes = round(level.delay(conversation.urgency == "urgent").total_seconds() / 60, 1)
    with force_locale(conversation.brand.default_language):
        names = ", ".join(person.name for person in people) or _(
            "nobody (no such staff, or none who sees this place)")
        conversation.add_message("system", _(
            "Escalated: no %(awaited)s after %(minutes)s min. %(action)s %(names)s.",
            awaited=waits_for_label(level.waits_for), minutes=f"{minutes:g}",
            action={"reassign": _("Reassigned to"), "tag_urgent": _("Tagged urgent; alerted")}
            .get(level.action, _("Alerted")),
            names=names), internal=True)
    with force_locale(conversation.language):
        conversation.add_message("system", _(
            "Your request has been escalated so that it is answered sooner."))


def waits_for_label(waits_for):
    """Return what a level waits for, in words of the current locale."""
    return {"reply": _("staff reply"), "seen": _("staff reading it"),
            "note": _("internal note"), "resolved": _("resolution")}[waits_for]
