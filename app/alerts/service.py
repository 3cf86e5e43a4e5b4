"""Who is alerted about a conversation, what the alert says, and sending it once.

Only staff who may see the conversation are alerted (app.core.scoping), each in their own
language, else the brand's. Every channel (email, ntfy push, SMS gateways, Telegram, Slack,
JSON webhooks...) goes through Apprise: a target is an Apprise URL, and nothing here knows one
provider from another.
"""
import logging
from datetime import UTC, timedelta

import apprise
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import jobs
from app.alerts.escalation import waits_for_label
from app.core import egress, payloads
from app.core.scoping import who_see
from models import AlertDelivery, AlertTarget, OutboxEvent, StaffMember, db
from models.alerting import ALERTING_KINDS, DETAIL_MAX
from models.common import utcnow

log = logging.getLogger(__name__)
FIRST_LINE_MAX = 200
LEAD_ROLES = ("lead", "manager")
# Holding an alert for less than this is not worth a scheduled job.
HOLD_AT_LEAST = timedelta(seconds=30)


def is_valid_url(url):
    """True if Apprise understands `url` as a notification target."""
    return apprise.Apprise().add(url)


def send(url, title, body):
    """Send one notification under the egress policy; return None, or egress's problem code
    (the raw error goes to the log: shown to the person it would make a port scanner)."""
    allow = current_app.config["EGRESS_ALLOW"]
    if (refused := egress.problem(url, egress.ALERT_SCHEMES, allow)) is not None:
        return refused
    # In this thread: the policy is carried by a context variable, which Apprise's
    # worker threads would only see as long as Apprise copies the context to them.
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not notifier.add(url):
        return egress.UNDELIVERED
    with egress.guarded(allow) as watch, \
            apprise.LogCapture(level=logging.WARNING) as captured:
        sent = notifier.notify(title=title, body=body)
    if sent:
        return None
    return egress.outcome(watch, " ".join(captured.getvalue().split())[:DETAIL_MAX])


def recipients(conversation):
    """Return who to alert: its assignee, else its team, leads too if bad news; if they see it."""
    if conversation.assignee is not None:
        people = [conversation.assignee]
    elif conversation.team is not None:
        people = list(conversation.team.members)
    else:
        people = []
    if conversation.sentiment == "negative" or conversation.urgency == "urgent":
        people += _leads(conversation)
    unique = {person.id: person for person in who_see(conversation, people) if person.active}
    return list(unique.values())


def _leads(conversation):
    """Return the leads who hear of bad news: the team's, else the brand's (recipients scopes)."""
    if conversation.team is not None:
        return [m for m in conversation.team.members if m.role in LEAD_ROLES]
    return db.session.scalars(db.select(StaffMember).filter_by(
        brand_id=conversation.brand_id, active=True).where(
        StaffMember.role.in_(LEAD_ROLES)).options(selectinload(StaffMember.touchpoints))).all()


def compose(conversation, headline=None):
    """Return (title, body) of the alert in the current locale: place, tags, first line, link."""
    language, urgent = str(get_locale()), conversation.urgency == "urgent"
    place = conversation.touchpoint.label if conversation.touchpoint else _("Web")
    tags = [_tag_label("urgent") if urgent else None, _tag_label(conversation.sentiment),
            conversation.category.label(language) if conversation.category else None,
            _tag_label(conversation.intent)]
    first = next((m.body for m in conversation.messages if m.author_kind == "customer"), "")
    first = " ".join(first.split())
    if len(first) > FIRST_LINE_MAX:
        first = first[:FIRST_LINE_MAX - 1] + "…"
    title = _("%(brand)s · %(place)s: %(headline)s", brand=conversation.brand.name, place=place,
              headline=headline or _("new conversation"))
    if urgent:
        title = _("URGENT %(title)s", title=title)
    body = "\n".join([
        " · ".join(tag for tag in tags if tag),
        f"“{first}”",
        payloads.inbox_url(conversation),
    ])
    return title, body


def _tag_label(value):
    """Return a sentiment or intent as staff read it, in the current locale."""
    from app.inbox.service import TAG_LABELS  # app.inbox imports this module: import it late
    return str(TAG_LABELS[value]) if value in TAG_LABELS else value


def dispatch(event_id):
    """Do what an outbox event calls for: alerts, then webhooks (an RQ job: safe to run twice)."""
    from app.alerts import webhooks
    event = db.session.get(OutboxEvent, event_id)
    if event is None or event.conversation is None:
        return 0
    sent = alert_about(event) if event.kind in ALERTING_KINDS else 0
    webhooks.fan_out(event)
    if _sending_elsewhere(event):
        # Another worker claimed one of its alerts and may have died mid-send: left
        # undispatched, the sweep runs the job again, which takes over once the claim expires.
        db.session.commit()
        return sent
    event.dispatched_at = utcnow()
    db.session.commit()
    return sent


def _sending_elsewhere(event):
    """True if an alert of `event` is claimed by a worker and not yet sent nor failed."""
    return db.session.scalar(db.select(AlertDelivery.id).filter_by(
        event_id=event.id, status="sending").limit(1)) is not None


def people_to_alert(event):
    """Return the staff an event alerts: routing's choice, or the escalation level's."""
    conversation = event.conversation
    if event.kind == "conversation.created":
        return recipients(conversation)
    ids = event.payload.get("staff_ids") or []
    # Checked again: their touchpoints may have changed since the level fired.
    return who_see(conversation, db.session.scalars(db.select(StaffMember).where(
        StaffMember.id.in_(ids), StaffMember.active)).all())


def headline(event):
    """Return what the alert is about, in the current locale."""
    if event.kind == "conversation.escalated":
        return _("escalated, no %(awaited)s after %(minutes)s min",
                 awaited=waits_for_label(event.payload.get("waits_for", "reply")),
                 minutes=f"{event.payload.get('minutes', 0):g}")
    return _("new conversation")


def alert_text(event, person):
    """Return (title, body) of `event`'s alert in `person`'s language, else the brand's."""
    from app.inbox.accounts import language_of  # app.inbox imports this module: import it late
    with force_locale(language_of(person)):
        return compose(event.conversation, headline(event))


def alert_time(person, conversation, now):
    """Return when `person` may be alerted: now when urgent; otherwise once the brand is open
    and the person's quiet hours are over (naive UTC)."""
    if conversation.urgency == "urgent":
        return now
    brand = conversation.brand
    moment = brand.next_opening(now)
    end = person.quiet_end(brand.local(moment))
    if end is not None:
        moment = brand.next_opening(end.astimezone(UTC).replace(tzinfo=None))
    return moment


def alert_about(event):
    """Alert each person on each of their targets, once per (event, target); a person in
    quiet hours, or a brand closed, holds a non-urgent alert until then."""
    people = {person.id: person for person in people_to_alert(event)}
    now, sent = utcnow(), 0
    for target in AlertTarget.of_staff(list(people)):
        when = alert_time(people[target.staff_id], event.conversation, now)
        if when > now + HOLD_AT_LEAST:
            _hold(event, target, when)
            continue
        sent += deliver(event, target)
    return sent


def _hold(event, target, when):
    """Keep the alert as a held delivery row, and schedule it; the row outlives the job."""
    db.session.add(AlertDelivery(event_id=event.id, target_id=target.id, staff_id=target.staff_id,
                                 status="held", send_after=when))
    try:
        db.session.commit()
    except IntegrityError:  # held (or sent) by an earlier run of this job
        db.session.rollback()
        return
    delivery = db.session.scalar(db.select(AlertDelivery).filter_by(
        event_id=event.id, target_id=target.id))
    jobs.enqueue_at(when, send_held_alert, delivery.id, job_id=jobs.job_id("held", delivery.id))


def send_held_alert(delivery_id):
    """Send an alert held for quiet hours or closing time (an RQ job: safe to run twice)."""
    # A claim older than ALERT_CLAIM_SECONDS is a dead worker's: taken over, the alert goes
    # out once, late, instead of staying "sending" for ever.
    if not AlertDelivery.take_held(delivery_id, _claim_expiry()):
        return 0  # sent, or being sent, by another run
    delivery = db.session.get(AlertDelivery, delivery_id)
    event, target = db.session.get(OutboxEvent, delivery.event_id), \
        db.session.get(AlertTarget, delivery.target_id)
    return _send_claimed(delivery, event, target) if target is not None else 0


def queue_held_and_due(grace):
    """Queue held alerts whose time came without their scheduled job, or whose worker died
    while sending them (the sweep)."""
    due = AlertDelivery.held_and_due(grace, _claim_expiry())
    for delivery in due:
        jobs.enqueue(send_held_alert, delivery.id, queue=jobs.ALERTS,
                     job_id=jobs.job_id("held", delivery.id))
    return len(due)


def deliver(event, target):
    """Send the event's alert to one target unless it went already; return 1 if it arrived."""
    delivery = _claim(event.id, target)
    if delivery is None:
        return 0  # sent already, held, or another worker is sending it now
    return _send_claimed(delivery, event, target)


def _send_claimed(delivery, event, target):
    """Send a delivery this worker has claimed, and record how it went."""
    title, body = alert_text(event, db.session.get(StaffMember, delivery.staff_id))
    problem = send(target.url, title, body)
    delivery.status, delivery.detail = ("failed", problem) if problem else ("sent", None)
    delivery.finished_at = utcnow()
    db.session.commit()
    return int(problem is None)


def _claim(event_id, target):
    """Take the (event, target) delivery for this worker; None if it is not ours to send."""
    delivery = db.session.scalar(db.select(AlertDelivery).filter_by(
        event_id=event_id, target_id=target.id))
    if delivery is None:
        delivery = AlertDelivery(event_id=event_id, target_id=target.id, staff_id=target.staff_id)
        db.session.add(delivery)
        try:
            db.session.commit()
        except IntegrityError:  # another worker claimed it between our look and our insert
            db.session.rollback()
            return None
        return delivery
    if delivery.status == "sending" and utcnow() - delivery.claimed_at > _claim_expiry():
        # Its worker died mid-send; take it over, unless another retry just did.
        taken = db.session.execute(db.update(AlertDelivery).where(
            AlertDelivery.id == delivery.id, AlertDelivery.claimed_at == delivery.claimed_at)
            .values(claimed_at=utcnow()))
        db.session.commit()
        return delivery if taken.rowcount == 1 else None
    return None


def _claim_expiry():
    """How long a claim lasts before it counts as a dead worker's."""
    return timedelta(seconds=current_app.config["ALERT_CLAIM_SECONDS"])


def test_alert(staff, target):
    """Send a test alert to one of `staff`'s targets now; return None or the problem."""
    from app.inbox.accounts import language_of  # app.inbox imports this module: import it late
    with force_locale(language_of(staff)):
        title = _("Kulak test alert")
        body = _("This is how Kulak will alert %(name)s about new conversations.",
                 name=staff.name)
    return send(target.url, title, body)
