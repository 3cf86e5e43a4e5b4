"""One-time links (set a password, reset it) and invitations, each stored only as a hash."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, String, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import EMAIL_MAX, utcnow

LINK_PURPOSES = ("set_password", "reset")
LINK_LIFETIME = timedelta(hours=24)
# A reset link is asked for by whoever knows the address: it lives an hour, not a day.
RESET_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(hours=24)
# 32 random bytes: the link is the credential until it is used.
LINK_TOKEN_BYTES = 32


def token_hash(token):
    """Return the stored form of a link token: its SHA-256 (a leaked table opens nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token():
    """Return (token, its hash): the token is shown or mailed once, only the hash is kept."""
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    return token, token_hash(token)


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
        token, hashed = new_token()
        now = utcnow()
        link = cls(staff=staff, purpose=purpose, token_hash=hashed,
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


class Invitation(db.Model):
    """An invitation to join a brand's staff, bound to one address, role, teams and places."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    role: Mapped[str] = mapped_column(String(10))
    team_ids: Mapped[list] = mapped_column(JSON, default=list)
    touchpoint_ids: Mapped[list] = mapped_column(JSON, default=list)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    # The member of staff the invitation made, once accepted.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    # The last mail that carried it: its delivery (or failure) shows on the staff page.
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_mail.id"))

    invited_by: Mapped["StaffMember | None"] = relationship(  # noqa: F821
        foreign_keys=[invited_by_id])
    mail: Mapped["OutgoingMail | None"] = relationship()  # noqa: F821

    @property
    def pending(self):
        return self.accepted_at is None and self.revoked_at is None

    def renew(self, lifetime=INVITATION_LIFETIME):
        """Give the invitation a new token and expiry (the old link stops working); return it."""
        token, self.token_hash = new_token()
        self.created_at = utcnow()
        self.expires_at = self.created_at + lifetime
        return token

    @classmethod
    def find(cls, token):
        """Return the pending, unexpired invitation `token` opens, or None."""
        if not token or len(token) > 100:
            return None
        found = db.session.scalar(db.select(cls).filter_by(token_hash=token_hash(token)))
        if found is None or not found.pending or found.expires_at <= utcnow():
            return None
        return found

    def accept(self):
        """Mark it accepted by one conditional update; False if another request was first."""
        done = db.session.execute(
            update(Invitation).where(Invitation.id == self.id, Invitation.accepted_at.is_(None),
                                     Invitation.revoked_at.is_(None))
            .values(accepted_at=utcnow()))
        return done.rowcount == 1


class StaffSession(db.Model):
    """One signed-in browser of a member of staff, so that the server can end it (log out,
    idle timeout); the cookie carries its random id, this table only that id's hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()

    @classmethod
    def start(cls, staff):
        """Add a new session of `staff`; return (session, token): the token only now."""
        token, hashed = new_token()
        started = cls(staff_id=staff.id, token_hash=hashed)
        db.session.add(started)
        return started, token

    @classmethod
    def find(cls, token):
        """Return the session `token` names if it has not ended, else None."""
        if not token or len(token) > 100:
            return None
        found = db.session.scalar(db.select(cls).filter_by(token_hash=token_hash(token)))
        return found if found is not None and found.ended_at is None else None
