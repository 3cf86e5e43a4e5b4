"""API tokens a brand gives its CRM, and the first answer to each idempotent request."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import utcnow

TOKEN_NAME_MAX = 80
TOKEN_PREFIX = "kulak_"
IDEMPOTENCY_KEY_MAX = 200
# "Last used" is written at most this often: a token in a busy loop costs no write per call.
LAST_USED_EVERY = timedelta(seconds=60)


def token_hash(plain):
    """Return the stored form of a token: it has 256 random bits, so one SHA-256 suffices."""
    return hashlib.sha256(plain.encode()).hexdigest()


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    # The token itself is shown once; only its hash and its first characters are kept.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    read_only: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    created_by = relationship("StaffMember")

    @classmethod
    def issue(cls, brand_id, name, read_only, created_by_id=None):
        """Add a new token to the session; return (token, the plain token to show once)."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(brand_id=brand_id, name=name, read_only=read_only, hint=plain[:10],
                    token_hash=token_hash(plain), created_by_id=created_by_id)
        db.session.add(token)
        return token, plain

    @classmethod
    def active(cls, plain):
        """Return the unrevoked token whose plain form is `plain`, or None."""
        return db.session.scalar(db.select(cls).filter_by(token_hash=token_hash(plain),
                                                          revoked_at=None))

    @classmethod
    def for_brand(cls, brand_id):
        return db.session.scalars(db.select(cls).filter_by(brand_id=brand_id)
                                  .order_by(cls.revoked_at.is_not(None), cls.id.desc())).all()

    def touch(self, now=None):
        """Note the token's use; True if that needs a write (at most once a minute)."""
        now = now or utcnow()
        if self.last_used_at is not None and now - self.last_used_at < LAST_USED_EVERY:
            return False
        self.last_used_at = now
        return True

    def revoke(self):
        self.revoked_at = self.revoked_at or utcnow()


class IdempotentRequest(db.Model):
    """A POST sent with an Idempotency-Key: a retry gets `status` and `body` back as they were.

    The row is committed before the operation runs (status None: in progress), so a second
    copy arriving meanwhile finds it and is told to wait instead of running twice."""

    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    # What was asked (method, path and body, hashed): the same key for another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column()
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
