"""Outgoing mail: every message Kulak sends by email, kept until it is delivered or gives up."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.common import EMAIL_MAX, utcnow

# queued -> sending (one run has claimed the attempt) -> sent, or queued again, or failed.
MAIL_STATUSES = ("queued", "sending", "sent", "failed")
# transcript: a customer's conversation link; replies: staff replies a customer missed.
MAIL_PURPOSES = ("invitation", "reset", "test", "transcript", "replies")
SUBJECT_MAX = 200
ERROR_MAX = 500


class OutgoingMail(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # None for mail that belongs to no brand (none yet; kept open for operator mail).
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    # What went wrong last, in words a person can act on (never the message's content).
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the next attempt is due (queued) or when the current one was claimed (sending): the
    # sweep queues again what waited far past it, whatever happened to its job.
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    def __repr__(self):
        return f"<OutgoingMail {self.purpose} to {self.to_address} {self.status}>"
