"""What a customer said of how a conversation was handled: CSAT (1-5) and NPS (0-10)."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import CLIENT_ID_MAX, utcnow

CSAT_SCALE = range(1, 6)
NPS_SCALE = range(0, 11)
COMMENT_MAX = 1000
# What a brand asks once a conversation is resolved: CSAT, NPS instead, or both in turn.
RATING_MODES = ("csat", "nps", "both")


class Rating(db.Model):
    """One answer per resolution of a conversation (a reopened one is asked again); the
    customer may change it until the conversation is reopened or the brand's limit passes."""

    __table_args__ = (UniqueConstraint("conversation_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    # Which resolution it answers: Conversation.resolved_count when it was asked.
    round: Mapped[int] = mapped_column(default=1)
    csat: Mapped[int | None] = mapped_column()
    nps: Mapped[int | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(CLIENT_ID_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped["Conversation"] = relationship()  # noqa: F821
