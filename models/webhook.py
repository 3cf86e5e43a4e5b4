"""CRM webhooks: a brand's endpoints, and every delivery of every event to each of them."""
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.alerting import DETAIL_MAX
from models.common import utcnow

WEBHOOK_URL_MAX = 1000
WEBHOOK_EVENTS = ("conversation.created", "message.created", "conversation.escalated",
                  "conversation.resolved")


def new_secret():
    return secrets.token_hex(32)


class Webhook(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_MAX))
    # The receiver checks X-Kulak-Signature: HMAC-SHA256 of "<timestamp>.<body>" with it.
    secret: Mapped[str] = mapped_column(String(64), default=new_secret)
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def listening(cls, brand_id, kind):
        return [hook for hook in db.session.scalars(db.select(cls).filter_by(
            brand_id=brand_id, active=True).order_by(cls.id)) if kind in hook.events]

    @classmethod
    def kinds_for(cls, brand_id):
        """Return the event kinds some active webhook of the brand listens to."""
        return sorted({kind for hook in db.session.scalars(db.select(cls).filter_by(
            brand_id=brand_id, active=True)) for kind in hook.events})


class WebhookDelivery(db.Model):
    """One event to one webhook: its attempts, retried with exponential backoff."""

    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"),
                                            index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id"))
    # "pending" (an attempt is due at next_attempt_at), "delivered" or "failed"
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker sending an attempt holds it until then; a dead worker's hold runs out.
    held_until: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(DETAIL_MAX))
    delivered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    webhook: Mapped[Webhook] = relationship()
    event: Mapped["OutboxEvent"] = relationship()  # noqa: F821

    @classmethod
    def overdue(cls, grace, limit=200):
        return db.session.scalars(db.select(cls).where(
            cls.status == "pending", cls.next_attempt_at < utcnow() - grace)
            .order_by(cls.next_attempt_at).limit(limit)).all()
