"""A brand's routing rules: which team a new conversation goes to."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import SLUG_MAX, utcnow


class RoutingRule(db.Model):
    """Send new conversations that match to a team; empty conditions match anything."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    category: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoint.id"))
    urgency: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    language: Mapped[str | None] = mapped_column(String(5))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped["Team"] = relationship()  # noqa: F821
    touchpoint: Mapped["Touchpoint | None"] = relationship()  # noqa: F821

    @classmethod
    def for_brand(cls, brand_id):
        """Return the brand's rules in the order they are tried."""
        return db.session.scalars(db.select(cls).filter_by(brand_id=brand_id)
                                  .order_by(cls.position, cls.id)).all()

    def matches(self, conversation):
        # Read through the relationships: a conversation being opened has no ids yet.
        category = conversation.category.slug if conversation.category else None
        touchpoint = conversation.touchpoint.id if conversation.touchpoint else None
        return ((self.category is None or self.category == category)
                and (self.touchpoint_id is None or self.touchpoint_id == touchpoint)
                and (self.urgency is None or self.urgency == conversation.urgency)
                and (self.language is None or self.language == conversation.language))
