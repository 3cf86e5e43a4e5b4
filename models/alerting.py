"""Staff alerts: where each person is alerted, the outbox of work to do, what was sent.

The outbox is written in the transaction that changes the conversation, so an alert or a
webhook can be late (Redis down, no worker) but never lost; each delivery row is unique per
(event, target), so a job run twice sends once.
"""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import LABEL_MAX, utcnow

ALERT_URL_MAX = 1000
DETAIL_MAX = 500
# Events that alert staff, recorded whether or not a webhook listens.
ALERTING_KINDS = ("conversation.created", "conversation.escalated")


class AlertTarget(db.Model):
    """One way a member of staff is alerted: an Apprise URL (mailto://, ntfy://, json://...)."""

    __table_args__ = (UniqueConstraint("staff_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    url: Mapped[str] = mapped_column(String(ALERT_URL_MAX))
    label: Mapped[str] = mapped_column(String(LABEL_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def of_staff(cls, staff_ids):
        """Return the targets of these staff members, oldest first."""
        return db.session.scalars(db.select(cls).where(cls.staff_id.in_(staff_ids))
                                  .order_by(cls.id)).all()


class OutboxEvent(db.Model):
    """Work that must follow a committed change: alerts and webhooks, relayed to the queue."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    # The message a "message.created" event is about.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once the event is on a queue; rows left without it are relayed again.
    relayed_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set when its job has done everything; a relayed event left without it for a while lost
    # its job (a worker killed mid-job) and is relayed again.
    dispatched_at: Mapped[datetime | None] = mapped_column()

    conversation: Mapped["Conversation | None"] = relationship()  # noqa: F821
    message: Mapped["Message | None"] = relationship()  # noqa: F821

    @classmethod
    def stalled(cls, after, limit=200):
        """Return events relayed more than `after` ago whose job never finished."""
        return db.session.scalars(db.select(cls).where(
            cls.relayed_at < utcnow() - after, cls.dispatched_at.is_(None))
            .order_by(cls.id).limit(limit)).all()

    @classmethod
    def unrelayed(cls, ids=None, older_than=None, limit=200):
        """Return events not yet on a queue: among `ids`, or older than `older_than`."""
        query = db.select(cls).where(cls.relayed_at.is_(None))
        if ids is not None:
            query = query.where(cls.id.in_(ids))
        if older_than is not None:
            query = query.where(cls.created_at < utcnow() - older_than)
        return db.session.scalars(query.order_by(cls.id).limit(limit)).all()


class AlertDelivery(db.Model):
    """One alert to one target for one event: claimed before sending, so it is sent once."""

    __table_args__ = (UniqueConstraint("event_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("alert_target.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    # "held" (quiet hours, or the brand closed), "sending" (claimed), "sent" or "failed"
    status: Mapped[str] = mapped_column(String(10), default="sending")
    detail: Mapped[str | None] = mapped_column(String(DETAIL_MAX))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A held alert goes out then: a scheduled job sends it, the sweep if that job was lost.
    send_after: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    @classmethod
    def held_and_due(cls, grace, claim_expiry, limit=200):
        """Held alerts whose time came, and held alerts claimed by a worker that has not
        finished sending them within `claim_expiry` (it died): both are sent by the sweep."""
        now = utcnow()
        return db.session.scalars(db.select(cls).where(
            cls.send_after.is_not(None),
            ((cls.status == "held") & (cls.send_after < now - grace))
            | ((cls.status == "sending") & (cls.claimed_at < now - claim_expiry)))
            .order_by(cls.send_after).limit(limit)).all()

    @classmethod
    def take_held(cls, delivery_id, claim_expiry):
        """Claim a held alert for this worker, or take over an expired claim; True if ours."""
        now = utcnow()
        taken = db.session.execute(db.update(cls).where(
            cls.id == delivery_id, cls.send_after.is_not(None),
            (cls.status == "held")
            | ((cls.status == "sending") & (cls.claimed_at < now - claim_expiry)))
            .values(status="sending", claimed_at=now))
        db.session.commit()
        return taken.rowcount == 1
