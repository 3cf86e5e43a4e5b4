"""Escalation: a brand's ordered levels, and each conversation's schedule of them.

A level says "after N seconds without <something staff do>, do <an action>". When a
conversation opens, one Escalation row per level is written in the same commit with the
moment it falls due, so the schedule survives a restart or a Redis outage. A level is claimed
by the one update that stamps it fired, so two workers never fire it twice.
"""
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import utcnow

# What each level waits for: the first that happens stops the chain.
WAITS_FOR = ("reply", "seen", "note", "resolved")
ACTIONS = ("alert", "reassign", "tag_urgent")
TARGETS = ("role", "team", "staff")


class EscalationLevel(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    waits_for: Mapped[str] = mapped_column(String(10), default="reply")
    after_seconds: Mapped[int] = mapped_column()
    # Urgent conversations climb faster.
    urgent_after_seconds: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(10), default="alert")
    target_kind: Mapped[str] = mapped_column(String(10), default="role")
    # A role name ("lead", "manager"), or the id of a team or member of staff, as text.
    target_value: Mapped[str] = mapped_column(String(64))

    @classmethod
    def for_brand(cls, brand_id):
        return db.session.scalars(db.select(cls).filter_by(brand_id=brand_id)
                                  .order_by(cls.position, cls.id)).all()

    @classmethod
    def defaults(cls, brand_id):
        """Return the default policy: 3 minutes without a reply alerts the team lead, 10
        reassign it to the manager (urgent: 1 and 3)."""
        return [cls(brand_id=brand_id, position=0, waits_for="reply", after_seconds=180,
                    urgent_after_seconds=60, action="alert", target_kind="role",
                    target_value="lead"),
                cls(brand_id=brand_id, position=1, waits_for="reply", after_seconds=600,
                    urgent_after_seconds=180, action="reassign", target_kind="role",
                    target_value="manager")]

    def delay(self, urgent):
        return timedelta(seconds=self.urgent_after_seconds if urgent else self.after_seconds)


class Escalation(db.Model):
    """One level's deadline for one conversation, and what became of it."""

    __table_args__ = (UniqueConstraint("conversation_id", "level_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("escalation_level.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(index=True)
    # Set once handed to the queue's scheduler; the sweep re-queues an overdue one anyway.
    scheduled_at: Mapped[datetime | None] = mapped_column()
    fired_at: Mapped[datetime | None] = mapped_column()
    # Set when what the level waited for happened first (or the conversation moved on).
    stopped_at: Mapped[datetime | None] = mapped_column()

    level: Mapped[EscalationLevel] = relationship()
    conversation: Mapped["Conversation"] = relationship()  # noqa: F821

    @classmethod
    def plan(cls, conversation):
        """Add the brand's levels' deadlines for a new conversation (not committed)."""
        start = conversation.created_at or utcnow()
        urgent, brand = conversation.urgency == "urgent", conversation.brand
        # A level that would fall due while the brand is closed waits for it to open, unless
        # the conversation is urgent.
        planned = [cls(conversation=conversation, level=level,
                       due_at=start + level.delay(True) if urgent
                       else brand.next_opening(start + level.delay(False)))
                   for level in EscalationLevel.for_brand(brand.id)]
        db.session.add_all(planned)
        return planned

    @classmethod
    def unscheduled(cls, conversation_ids=None, limit=200):
        query = db.select(cls).where(
            cls.scheduled_at.is_(None), cls.fired_at.is_(None), cls.stopped_at.is_(None))
        if conversation_ids is not None:
            query = query.where(cls.conversation_id.in_(conversation_ids))
        return db.session.scalars(query.order_by(cls.due_at).limit(limit)).all()

    @classmethod
    def overdue(cls, grace, limit=200):
        """Return open escalations due more than `grace` ago: their scheduled job was lost."""
        return db.session.scalars(db.select(cls).where(
            cls.fired_at.is_(None), cls.stopped_at.is_(None), cls.due_at < utcnow() - grace)
            .order_by(cls.due_at).limit(limit)).all()
