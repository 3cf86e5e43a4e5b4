"""One-time links: a set-password (later invitation, reset) link, stored only as a hash."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import utcnow

LINK_PURPOSES = ("set_password",)
LINK_LIFETIME = timedelta(hours=24)
# 32 random bytes: the link is the credential until it is used.
LINK_TOKEN_BYTES = 32


def token_hash(token):
    """Return the stored form of a link token: its SHA-256 (a leaked table opens nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


class OneTimeLink(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    staff: Mapped["StaffMember"] = relationship()  # noqa: F821

    @classmethod
    def issue(cls, staff, purpose, lifetime=LINK_LIFETIME):
        """Add a new link for `staff` to the session; return (link, token): the token only now."""
        token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
        now = utcnow()
        link = cls(staff=staff, purpose=purpose, token_hash=token_hash(token),
                   created_at=now, expires_at=now + lifetime)
        db.session.add(link)
        return link, token

    @classmethod
    def find(cls, token, purpose):
        """Return the link `token` opens for `purpose` if unused and unexpired, else None."""
        if not token or len(token) > 100:
            return None
        link = db.session.scalar(db.select(cls).filter_by(
            token_hash=token_hash(token), purpose=purpose))
        if link is None or link.used_at is not None or link.expires_at <= utcnow():
            return None
        if not link.staff.active:
            return None
        return link

    def use(self):
        """Mark the link used by one conditional update; False if another request was first."""
        done = db.session.execute(
            update(OneTimeLink).where(OneTimeLink.id == self.id, OneTimeLink.used_at.is_(None))
            .values(used_at=utcnow()))
        return done.rowcount == 1
