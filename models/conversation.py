"""The conversation aggregate: a customer's conversation with a brand and its messages."""
import re
import secrets
from contextlib import nullcontext
from datetime import datetime
from functools import cache

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    text,
    update,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, joinedload, mapped_column, object_session, relationship
from sqlalchemy.orm.attributes import set_committed_value

from models import db, run_alone
from models.common import CLIENT_ID_MAX, CONTACT_MAX, NAME_MAX, SLUG_MAX, utcnow

STATUSES = ("open", "pending", "resolved")
AUTHOR_KINDS = ("customer", "staff", "system")
# 24 random bytes: 192 bits, far past guessing; urlsafe base64 gives 32 characters.
TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


# The rows of ix_message_customer_created, said as the reports' query says it (IS false), so
# that PostgreSQL can prove the query's rows are in the index.
CUSTOMER_WRITTEN = "author_kind = 'customer' AND internal IS false"


def new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


class Conversation(db.Model):
    # Reports read one brand's conversations of a period.
    __table_args__ = (Index("ix_conversation_brand_created", "brand_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoint.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # The client-side id of the message that opened it: a retried first post finds it again.
    client_id: Mapped[str | None] = mapped_column(String(CLIENT_ID_MAX), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    sentiment: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    urgency: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    intent: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    # {tag: {label, confidence, why}} as the classifier set it, or {label, by: "staff"}.
    tag_details: Mapped[dict | None] = mapped_column(JSON, default=dict)
    # The category the customer chose when they wrote first: the classifier's prior.
    picked_category: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    customer_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    customer_contact: Mapped[str | None] = mapped_column(String(CONTACT_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Any change to the row (a message, a status, a tag, a seen stamp): the API's "updated since".
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The customer's first message since staff last replied: how long they have waited.
    waiting_since: Mapped[datetime | None] = mapped_column()
    first_response_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    # How many times staff resolved it: a rating answers one resolution, so a reopened and
    # again resolved conversation asks again.
    resolved_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The customer's latest word (the rating of the newest rated resolution), kept here by
    # app.widget.satisfaction so that reports read one row per conversation, not a join.
    csat: Mapped[int | None] = mapped_column()
    nps: Mapped[int | None] = mapped_column()
    # The newest customer message a member of staff has had on screen ("seen").
    staff_seen_message_id: Mapped[int | None] = mapped_column()
    # The highest escalation level that has fired (1 = the first), shown in the inbox.
    escalated_level: Mapped[int | None] = mapped_column()
    # Where the customer asked to be reached ("email" or "sms", and the address they gave on
    # this page): unverified, so it never joins this conversation to anyone else's.
    reach_channel: Mapped[str | None] = mapped_column(String(5))
    reach_address: Mapped[str | None] = mapped_column(String(CONTACT_MAX))
    # The customer's choice on the page: staff replies they miss are sent to that address.
    reach_replies: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # The brand's contact, once the customer pressed the button of a link sent to the address.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    # The newest message the customer has had on screen (a page, a frame or a live push).
    customer_seen_message_id: Mapped[int | None] = mapped_column()
    # The newest staff reply sent to them by mail or SMS: the next message starts after it.
    notified_message_id: Mapped[int | None] = mapped_column()
    # When the message with the replies they missed goes: set by the first reply of a window.
    away_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # When an admin erased its personal data (its figures stay for reports).
    erased_at: Mapped[datetime | None] = mapped_column()

    brand: Mapped["Brand"] = relationship()  # noqa: F821
    touchpoint: Mapped["Touchpoint | None"] = relationship()  # noqa: F821
    category: Mapped["Category | None"] = relationship()  # noqa: F821
    assignee: Mapped["StaffMember | None"] = relationship()  # noqa: F821
    team: Mapped["Team | None"] = relationship()  # noqa: F821
    contact: Mapped["Contact | None"] = relationship()  # noqa: F821
    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan")
    survey_responses: Mapped[list["SurveyResponse"]] = relationship(  # noqa: F821
        back_populates="conversation")

    @classmethod
    def by_token(cls, token):
        """Return the conversation behind a capability token, or None for anything malformed."""
        if not token or not TOKEN_PATTERN.match(token):
            return None
        return db.session.scalar(_by_token_statement(), {"token": token})

    @classmethod
    def opened_with(cls, brand_id, touchpoint_id, client_id, body, keys):
        """Return the conversation of this brand and place opened by `body` sent as `client_id`."""
        # The conversation's client id is unique across all brands, so a first post whose id
        # another conversation holds is stored under a stand-in key: `keys` holds both. Only
        # the same brand, place and text make a retry; any other match is someone else's.
        place = (cls.touchpoint_id.is_(None) if touchpoint_id is None
                 else cls.touchpoint_id == touchpoint_id)
        return db.session.scalar(db.select(cls).join(Message, db.and_(
            Message.conversation_id == cls.id, Message.client_id == client_id)).where(
            cls.client_id.in_(keys), cls.brand_id == brand_id, place,
            Message.author_kind == "customer", Message.body == body))

    def message_with(self, client_id):
        """Return this conversation's message sent with `client_id`, or None (a retry's check)."""
        if not client_id:
            return None
        return db.session.scalar(db.select(Message).filter_by(
            conversation_id=self.id, client_id=client_id))

    def messages_after(self, message_id=0, internal=False):
        """Return the messages newer than `message_id`, oldest first; staff-only ones if asked."""
        query = db.select(Message).filter(Message.conversation_id == self.id,
                                          Message.id > message_id)
        # Staff authors come along: a transcript must not cost a query per reply.
        query = query.options(joinedload(Message.staff))
        if not internal:
            query = query.filter(Message.internal.is_(False))
        return db.session.scalars(query.order_by(Message.id)).all()

    def add_message(self, author_kind, body, client_id=None, staff=None, internal=False):
        """Append a message and bump the conversation's activity time (not committed)."""
        message = Message(author_kind=author_kind, body=body, client_id=client_id, staff=staff,
                          internal=internal, created_at=utcnow())
        session = object_session(self)
        # Flush nothing early, so a duplicate client id surfaces at commit where it is handled.
        with session.no_autoflush if session is not None else nullcontext():
            if session is None:
                self.messages.append(message)
            else:  # a stored conversation: add without loading the whole transcript
                message.conversation = self
                session.add(message)
            if not internal:
                self.last_message_at = message.created_at
                if author_kind == "customer":
                    self.waiting_since = self.waiting_since or message.created_at
                elif author_kind == "staff":
                    self.waiting_since = None
        return message

    def _tag_values(self, changes):
        """Return ({column: value}, category or None) that set the tags `changes` names."""
        if not changes:
            return {}, None
        values = {"tag_details": {**(self.tag_details or {}), **changes}}
        for field in ("sentiment", "urgency", "intent"):
            if field in changes:
                values[field] = changes[field]["label"]
        category = None
        if "category" in changes:
            label = changes["category"]["label"]
            # A category the conversation has (the customer's "Spa") that stands for the label
            # is kept, not swapped for the first category standing for it.
            category = (self.category if self.category is not None and self.category.active
                        and label in (self.category.slug, self.category.taxonomy)
                        else self.brand.category_for(label))
            if category is None:  # the brand hides that category: keep the one it has
                values["tag_details"].pop("category")
            else:
                values["category_id"] = category.id
        return values, category

    def retag(self, changes):
        """Set the tags `changes` names: {field: {label, ...}} (not committed)."""
        values, category = self._tag_values(changes)
        values.pop("category_id", None)
        for field, value in values.items():
            setattr(self, field, value)
        if category is not None:
            self.category = category

    def insert_customer_message(self, body, client_id=None, tags=None):
        """Insert a customer message and mark the conversation open and waiting (not committed).

        Every customer post takes this path, so it is plain statements on the session's
        connection (one on PostgreSQL) rather than a unit-of-work flush, whose bookkeeping cost
        more CPU than the statements themselves (bench/post_throughput.py). A duplicate client
        id raises IntegrityError here.
        """
        now = utcnow()
        row = {"conversation_id": self.id, "author_kind": "customer", "body": body,
               "client_id": client_id, "internal": False, "created_at": now, "staff_id": None}
        tag_values, category = self._tag_values(tags)
        state = {"status": "open", "resolved_at": None, "last_message_at": now, "updated_at": now,
                 "waiting_since": self.waiting_since or now, **tag_values}
        params = {"post_conversation_id": self.id, "post_body": body,
                  "post_client_id": client_id, "post_now": now,
                  **{f"new_{column}": value for column, value in tag_values.items()}}
        connection = db.session.connection()
        statements = _customer_post_statements(connection.dialect.name, tuple(tag_values))
        row["id"] = connection.execute(statements[0], params).scalar_one()
        for statement in statements[1:]:
            connection.execute(statement, params)
        for field, value in state.items():  # the row as just written, without reading it back
            set_committed_value(self, field, value)
        if category is not None:
            set_committed_value(self, "category", category)
        message = Message(**row)
        set_committed_value(message, "conversation", self)  # no cascade into the session
        return message

    @classmethod
    def customer_saw(cls, conversation_id, message_id):
        """Record that the customer has had `message_id` on screen (never moves back; not
        committed). Not an update of the conversation for the API: its updated_at stays."""
        if not message_id:
            return
        db.session.execute(update(cls).where(cls.id == conversation_id, db.or_(
            cls.customer_seen_message_id.is_(None), cls.customer_seen_message_id < message_id))
            .values(customer_seen_message_id=message_id, updated_at=cls.updated_at))

    @classmethod
    def staff_saw(cls, conversation_id, message_id):
        """Record that staff have had customer message `message_id` on screen (never moves
        back), in one statement of its own; return the row's (brand_id, touchpoint_id,
        language) if that is news, else None."""
        return run_alone(
            update(cls).where(cls.id == conversation_id, db.or_(
                cls.staff_seen_message_id.is_(None), cls.staff_seen_message_id < message_id))
            .values(staff_seen_message_id=message_id)
            .returning(cls.brand_id, cls.touchpoint_id, cls.language))

    def last_customer_message_id(self):
        return db.session.scalar(db.select(db.func.max(Message.id)).filter_by(
            conversation_id=self.id, author_kind="customer"))


    def __repr__(self):
        return f"<Conversation {self.id}>"


@cache
def _by_token_statement():
    # Built once: a statement object keeps its cache key, so each post skips rebuilding it.
    # The brand comes along (every page needs its language and origins), and the touchpoint
    # (every post's classification reads its kind).
    return db.select(Conversation).where(Conversation.token == bindparam("token")).options(
        joinedload(Conversation.brand), joinedload(Conversation.touchpoint))


@cache
def _customer_post_statements(dialect, tag_columns):
    """Return the statements of a customer post that sets `tag_columns`, built once per shape.

    The first statement returns the new message's id. On PostgreSQL it is the only one: the
    insert rides in a data-modifying WITH of the update, one round trip. SQLite has no such
    WITH, so there it is the insert, then the update.
    """
    messages, conversations = Message.__table__, Conversation.__table__
    now = bindparam("post_now", type_=conversations.c.last_message_at.type)
    new_message = insert(messages).values(
        conversation_id=bindparam("post_conversation_id"), author_kind="customer",
        body=bindparam("post_body"), client_id=bindparam("post_client_id"), internal=False,
        created_at=now, staff_id=None).returning(messages.c.id)
    touch = update(conversations).where(
        conversations.c.id == bindparam("post_conversation_id")).values(
        status="open", resolved_at=None, last_message_at=now, updated_at=now,
        waiting_since=func.coalesce(conversations.c.waiting_since, now),
        **{column: bindparam(f"new_{column}", type_=conversations.c[column].type)
           for column in tag_columns})
    if dialect == "postgresql":
        inserted = new_message.cte("new_message")
        return (touch.add_cte(inserted).returning(db.select(inserted.c.id).scalar_subquery()),)
    return new_message, touch


class Message(db.Model):
    # Reports count a period's customer messages by when they were written: a partial index
    # that covers the query (time and conversation), half the size of one over every message.
    __table_args__ = (UniqueConstraint("conversation_id", "client_id"),
                      Index("ix_message_customer_created", "created_at", "conversation_id",
                            postgresql_where=text(CUSTOMER_WRITTEN),
                            sqlite_where=text(CUSTOMER_WRITTEN)))

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    author_kind: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    body: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(CLIENT_ID_MAX))
    # Private notes and activity lines (assigned, transferred, resolved): staff eyes only.
    internal: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    staff: Mapped["StaffMember | None"] = relationship()  # noqa: F821

    def __repr__(self):
        return f"<Message {self.id} {self.author_kind}>"


TAG_FIELDS = ("category", "sentiment", "urgency", "intent")


class TagCorrection(db.Model):
    """A member of staff's fix of a wrong tag: a labelled example for retraining."""

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    field: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str | None] = mapped_column(String(SLUG_MAX))
    new_value: Mapped[str] = mapped_column(String(SLUG_MAX))
    # What the customer had written when the tag was corrected: the example's text.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def count_for(cls, brand_id):
        """Return how many corrections the brand's staff have made."""
        return db.session.scalar(db.select(db.func.count(cls.id)).filter_by(brand_id=brand_id))


def commit_once(find_existing, write=None):
    """Run `write` and commit; if a unique key says a retry already stored it, return that.

    Returns (result of write, True) when this commit stored the new rows, else (existing, False).
    """
    try:
        written = write() if write is not None else None
        db.session.commit()
        return written, True
    except IntegrityError:
        db.session.rollback()
        existing = find_existing()
        if existing is None:
            raise
        return existing, False
