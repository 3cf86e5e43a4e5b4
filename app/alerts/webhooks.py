"""CRM webhooks: signed JSON for each event a brand's endpoints listen to, retried with
exponential backoff, every attempt kept for the delivery log.

A receiver verifies X-Kulak-Signature = "sha256=" + HMAC-SHA256(secret, "<timestamp>.<body>")
with X-Kulak-Timestamp, and may refuse stale timestamps; X-Kulak-Delivery identifies the
delivery, so a receiver can drop a repeat it has already processed.
"""
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.core import egress, payloads
from models import Webhook, WebhookDelivery, db
from models.common import utcnow

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5
# Waits before the retries: 6 attempts over about a minute, then the delivery is failed.
BACKOFF_SECONDS = (2, 4, 8, 16, 32)
HOLD = timedelta(seconds=TIMEOUT_SECONDS * 3)
OVERDUE_GRACE = timedelta(seconds=3)


def sign(secret, timestamp, body):
    """Return the signature header value for `body` (bytes) sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def body_of(event):
    """Return the JSON document an event is sent as."""
    data = {"conversation": payloads.conversation_data(event.conversation)}
    if (message := event.message) is not None:
        data["message"] = payloads.message_data(message)
    if "level" in event.payload:
        data["escalation"] = {"level": event.payload["level"],
                              "action": event.payload.get("action")}
    return {"id": event.id, "type": event.kind, "brand": event.conversation.brand.slug,
            "created_at": payloads.stamp(event.created_at), "data": data}


def fan_out(event):
    """Create a delivery per listening webhook of the brand, and queue its first attempt.

    Attempts run on the default queue: a receiver that hangs holds up webhooks, never an
    alert, which workers take first from the alerts queue."""
    for webhook in Webhook.listening(event.brand_id, event.kind):
        db.session.add(WebhookDelivery(webhook_id=webhook.id, event_id=event.id))
        try:
            db.session.commit()
        except IntegrityError:  # a retry of this job: the delivery exists and runs its course
            db.session.rollback()
    for delivery in db.session.scalars(db.select(WebhookDelivery).filter_by(
            event_id=event.id, status="pending", attempts=0)):
        jobs.enqueue(attempt, delivery.id, queue=jobs.DEFAULT,
                     job_id=jobs.job_id("webhook", delivery.id, 0))


def attempt(delivery_id):
    """Send one attempt of a delivery (an RQ job: a second worker finds it held and leaves)."""
    now = utcnow()
    held = db.session.execute(db.update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
        WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
        (WebhookDelivery.held_until.is_(None)) | (WebhookDelivery.held_until < now))
        .values(held_until=now + HOLD))
    db.session.commit()
    if held.rowcount != 1:
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    status_code, error = _post(delivery)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, error
    delivery.held_until = None
    if error is None:
        delivery.status, delivery.delivered_at = "delivered", utcnow()
    elif delivery.attempts > len(BACKOFF_SECONDS):
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = utcnow() + timedelta(
            seconds=BACKOFF_SECONDS[delivery.attempts - 1])
    db.session.commit()
    if delivery.status == "pending":
        jobs.enqueue_at(delivery.next_attempt_at, attempt, delivery.id, queue=jobs.DEFAULT,
                        job_id=jobs.job_id("webhook", delivery.id, delivery.attempts))
    return delivery.status


def _post(delivery):
    """POST the event under the egress policy; return (status code or None, None or what went
    wrong: an HTTP status, or egress's problem code; the connection error itself is logged)."""
    body = json.dumps(body_of(delivery.event), separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "Kulak-Webhook/1",
               "X-Kulak-Event": delivery.event.kind, "X-Kulak-Delivery": str(delivery.id),
               "X-Kulak-Timestamp": str(timestamp),
               "X-Kulak-Signature": sign(delivery.webhook.secret, timestamp, body)}
    allow = current_app.config["EGRESS_ALLOW"]
    url = delivery.webhook.url
    if (refused := egress.problem(url, egress.WEBHOOK_SCHEMES, allow)) is not None:
        return None, refused
    with egress.guarded(allow) as watch:
        try:
            answer = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                                   allow_redirects=False)
        except requests.RequestException as error:
            return None, egress.outcome(watch, f"webhook {delivery.webhook_id}: {error}")
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"HTTP {answer.status_code}"


def queue_overdue():
    """Queue attempts whose time passed without their job running (Redis lost it)."""
    overdue = WebhookDelivery.overdue(OVERDUE_GRACE)
    for delivery in overdue:
        jobs.enqueue(attempt, delivery.id, queue=jobs.DEFAULT,
                     job_id=jobs.job_id("webhook", delivery.id, delivery.attempts))
    return len(overdue)
