"""Who is alerted about a conversation, what the alert says, and sending it once.

Every channel (email, ntfy push, SMS gateways, Telegram, Slack, JSON webhooks...) goes
through Apprise: a target is an Apprise URL, and nothing here knows one provider from another.
"""
import logging
from datetime import timedelta

import apprise
from flask import current_app
from sqlalchemy.exc import IntegrityError

from models import AlertDelivery, AlertTarget, OutboxEvent, StaffMember, db
from models.alerting import DETAIL_MAX
from models.common import utcnow

log = logging.getLogger(__name__)
FIRST_LINE_MAX = 200
# A claim older than this belongs to a worker that died mid-send: the retry may take it over.
CLAIM_EXPIRES = timedelta(seconds=60)
LEAD_ROLES = ("lead", "manager")


def is_valid_url(url):
    """True if Apprise understands `url` as a notification target."""
    return apprise.Apprise().add(url)


def send(url, title, body):
    """Send one notification; return None, or what went wrong in words."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "Apprise does not understand this address."
    with apprise.LogCapture(level=logging.WARNING) as captured:
        sent = notifier.notify(title=title, body=body)
    if sent:
        return None
    detail = " ".join(captured.getvalue().split())
    return (detail or "The service refused the alert or did not answer.")[:DETAIL_MAX]


def recipients(conversation):
    """Return the staff to alert: its assignee, else its team; leads too if it is bad news."""
    if conversation.assignee is not None:
        people = [conversation.assignee]
    elif conversation.team is not None:
        people = list(conversation.team.members)
    else:
        people = []
    if conversation.sentiment == "negative" or conversation.urgency == "urgent":
        people += _leads(conversation)
    unique = {person.id: person for person in people
              if person.active and person.brand_id == conversation.brand_id}
    return list(unique.values())


def _leads(conversation):
    if conversation.team is not None:
        return [m for m in conversation.team.members if m.role in LEAD_ROLES]
    return db.session.scalars(db.select(StaffMember).filter_by(
        brand_id=conversation.brand_id, active=True).where(
        StaffMember.role.in_(LEAD_ROLES))).all()


def compose(conversation, headline="new conversation"):
    """Return (title, body) of the alert: brand, place, tags, first line, link."""
    place = conversation.touchpoint.label if conversation.touchpoint else "Web"
    tags = [conversation.urgency == "urgent" and "URGENT", conversation.sentiment,
            conversation.category.slug if conversation.category else None, conversation.intent]
    first = next((m.body for m in conversation.messages if m.author_kind == "customer"), "")
    first = " ".join(first.split())
    if len(first) > FIRST_LINE_MAX:
        first = first[:FIRST_LINE_MAX - 1] + "…"
    title = f"{conversation.brand.name} · {place}: {headline}"
    if conversation.urgency == "urgent":
        title = "URGENT " + title
    body = "\n".join([
        " · ".join(tag for tag in tags if tag),
        f"“{first}”",
        conversation_link(conversation),
    ])
    return title, body


def conversation_link(conversation):
    """Return the absolute inbox URL of `conversation`, usable outside a request."""
    path = current_app.url_map.bind("kulak").build(
        "inbox.conversation", {"conversation_id": conversation.id})
    return current_app.config["PUBLIC_URL"] + path


def dispatch(event_id):
    """Do what an outbox event calls for: alerts, then webhooks (an RQ job: safe to run twice)."""
    from app.alerts import webhooks
    event = db.session.get(OutboxEvent, event_id)
    if event is None or event.conversation is None:
        return 0
    sent = alert_about(event) if event.kind == "conversation.created" else 0
    webhooks.fan_out(event)
    return sent


def alert_about(event):
    """Alert each recipient on each of their targets, once per (event, target)."""
    conversation = event.conversation
    people = {person.id: person for person in recipients(conversation)}
    targets = AlertTarget.of_staff(list(people))
    title, body = compose(conversation)
    sent = 0
    for target in targets:
        delivery = _claim(event.id, target)
        if delivery is None:
            continue  # sent already, or another worker is sending it now
        problem = send(target.url, title, body)
        delivery.status, delivery.detail = ("failed", problem) if problem else ("sent", None)
        delivery.finished_at = utcnow()
        db.session.commit()
        sent += problem is None
    return sent


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
    if delivery.status == "sending" and utcnow() - delivery.claimed_at > CLAIM_EXPIRES:
        # Its worker died mid-send; take it over, unless another retry just did.
        taken = db.session.execute(db.update(AlertDelivery).where(
            AlertDelivery.id == delivery.id, AlertDelivery.claimed_at == delivery.claimed_at)
            .values(claimed_at=utcnow()))
        db.session.commit()
        return delivery if taken.rowcount == 1 else None
    return None


def test_alert(staff, target):
    """Send a test alert to one of `staff`'s targets now; return None or the problem."""
    return send(target.url, "Kulak test alert",
                f"This is how Kulak will alert {staff.name} about new conversations.")
