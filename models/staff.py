"""The staff aggregate: staff members of a brand and the teams they belong to."""
from datetime import datetime, time, timedelta

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models import db
from models.common import EMAIL_MAX, LABEL_MAX, NAME_MAX, SLUG_MAX, utcnow

ROLES = ("agent", "lead", "manager", "admin")

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}

team_membership = Table(
    "team_membership",
    db.metadata,
    Column("team_id", ForeignKey("team.id"), primary_key=True),
    Column("staff_id", ForeignKey("staff_member.id"), primary_key=True),
)

# A member of staff with rows here works only those touchpoints (a branch, a floor); with none,
# every touchpoint of the brand.
staff_touchpoint = Table(
    "staff_touchpoint",
    db.metadata,
    Column("staff_id", ForeignKey("staff_member.id"), primary_key=True),
    Column("touchpoint_id", ForeignKey("touchpoint.id"), primary_key=True),
)


class Team(db.Model):
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))

    members: Mapped[list["StaffMember"]] = relationship(
        secondary=team_membership, back_populates="teams", order_by="StaffMember.name")


class StaffMember(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[str] = mapped_column(String(10), default="agent")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column()
    # None: the brand's language. Alerts, mails and the inbox reach the person in this one.
    language: Mapped[str | None] = mapped_column(String(5))
    # Part of the session's user id: raising it ends every session signed in before.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When routing last gave this person a conversation: ties go round robin by it.
    last_routed_at: Mapped[datetime | None] = mapped_column()
    # Alerts wait out these hours (brand's local time; may span midnight) unless urgent.
    quiet_from: Mapped[time | None] = mapped_column()
    quiet_until: Mapped[time | None] = mapped_column()

    brand: Mapped["Brand"] = relationship()  # noqa: F821
    teams: Mapped[list[Team]] = relationship(
        secondary=team_membership, back_populates="members")
    touchpoints: Mapped[list["Touchpoint"]] = relationship(  # noqa: F821
        secondary=staff_touchpoint, order_by="Touchpoint.position")

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """Return the session's user id: the person and the epoch their sessions belong to."""
        return f"{self.id}:{self.session_epoch or 0}"

    def end_sessions(self):
        """End every session signed in so far (the caller commits; signs in again if it must)."""
        self.session_epoch = (self.session_epoch or 0) + 1

    @property
    def touchpoint_ids(self):
        """Return the ids of the touchpoints this person works, or None for all of them."""
        return [t.id for t in self.touchpoints] or None

    def works_at(self, touchpoint_id):
        """True if this person sees conversations of `touchpoint_id` (None: the web chat)."""
        ids = self.touchpoint_ids
        return ids is None or touchpoint_id in ids

    def quiet_end(self, local_now):
        """Return when this person's quiet hours end (local), or None if they are not in them."""
        start, end = self.quiet_from, self.quiet_until
        if start is None or end is None or start == end:
            return None
        clock = local_now.time()
        inside = start <= clock < end if start < end else (clock >= start or clock < end)
        if not inside:
            return None
        ends = local_now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        return ends if ends > local_now else ends + timedelta(days=1)

    def set_password(self, password):
        """Store a scrypt hash of `password` (werkzeug's default KDF)."""
        self.password_hash = generate_password_hash(password)

    def set_unusable_password(self):
        """Leave no password that can sign in: the person sets one through a one-time link."""
        self.password_hash = "!"

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def __repr__(self):
        return f"<StaffMember {self.email}>"


class CannedReply(db.Model):
    """A reply a brand's staff insert often, chosen by its title."""

    __table_args__ = (UniqueConstraint("brand_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    title: Mapped[str] = mapped_column(String(LABEL_MAX))
    body: Mapped[str] = mapped_column(Text)
