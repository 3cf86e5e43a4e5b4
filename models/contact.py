"""The customer's way back: contacts, the links that verify them, what is sent to customers,
and the log of erasures."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import CONTACT_MAX, NAME_MAX, utcnow

CHANNELS = ("email", "sms")
NOTICE_PURPOSES = ("link", "replies")
# queued -> sending -> sent, or failed (for SMS; mail keeps its own status in OutgoingMail).
NOTICE_STATUSES = ("queued", "sending", "sent", "failed")
NOTE_MAX = 2000
ERROR_MAX = 500
# A verification link proves that whoever opened it reads that mailbox or phone now: it is
# single use and lives an hour (as a password reset does), not as long as the conversation.
VERIFY_LIFETIME = timedelta(hours=1)
VERIFY_TOKEN_BYTES = 32


def token_hash(token):
    """Return the stored form of a verification token (a leaked table verifies nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Contact(db.Model):
    """A brand's record of one verified email address or phone number, and what staff know."""

    __table_args__ = (UniqueConstraint("brand_id", "channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    channel: Mapped[str] = mapped_column(String(5))
    # Normalised (an email in lower case, a phone as +digits): one person, one row.
    address: Mapped[str] = mapped_column(String(CONTACT_MAX))
    name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the address was last proven by its owner pressing a verification link's button.
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self):
        return f"<Contact {self.id} {self.channel}>"


class ContactVerification(db.Model):
    """A one-time link sent to the address a customer gave on one conversation's page."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    channel: Mapped[str] = mapped_column(String(5))
    address: Mapped[str] = mapped_column(String(CONTACT_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    conversation: Mapped["Conversation"] = relationship()  # noqa: F821

    @classmethod
    def issue(cls, conversation, channel, address, lifetime=VERIFY_LIFETIME):
        """Add a link for `address` to the session; return (row, token): the token only now."""
        token = secrets.token_urlsafe(VERIFY_TOKEN_BYTES)
        now = utcnow()
        row = cls(brand_id=conversation.brand_id, conversation_id=conversation.id,
                  channel=channel, address=address, token_hash=token_hash(token),
                  created_at=now, expires_at=now + lifetime)
        db.session.add(row)
        return row, token

    @classmethod
    def find(cls, token):
        """Return the link `token` opens if it exists, or None (used or expired ones too)."""
        if not token or len(token) > 100:
            return None
        return db.session.scalar(db.select(cls).filter_by(token_hash=token_hash(token)))

    @property
    def usable(self):
        return self.used_at is None and self.expires_at > utcnow()

    def use(self):
        """Mark the link used by one conditional update; False if another request was first."""
        done = db.session.execute(update(ContactVerification).where(
            ContactVerification.id == self.id, ContactVerification.used_at.is_(None),
            ContactVerification.expires_at > utcnow()).values(used_at=utcnow()))
        return done.rowcount == 1


class CustomerNotice(db.Model):
    """One mail or SMS to a customer: their conversation's link, or replies they missed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    channel: Mapped[str] = mapped_column(String(5))
    address: Mapped[str] = mapped_column(String(CONTACT_MAX), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    # The SMS text until it is sent (it carries the conversation's link, a key): then cleared.
    text: Mapped[str | None] = mapped_column(Text)
    # A mail goes through the outgoing mail queue, which keeps its own delivery state.
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_mail.id"))
    # Replies: the newest staff message it carries, so the next one starts after it.
    through_message_id: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When the next SMS attempt is due: the sweep queues again what waited far past it.
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    def __repr__(self):
        return f"<CustomerNotice {self.purpose} {self.channel} {self.status}>"


class Erasure(db.Model):
    """Who erased whose personal data, and when: never what was erased."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    # "contact" or "conversation", and its id (a contact's row is gone after: the id stays).
    subject: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column()
    conversations: Mapped[int] = mapped_column(default=0)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped["StaffMember | None"] = relationship()  # noqa: F821
