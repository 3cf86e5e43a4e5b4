"""Fixtures of the API tests: tokens of the demo brand, a client that sends them, a demo
conversation, and a second brand with everything of its own."""
from types import SimpleNamespace

import pytest

from app.admin.setup import create_brand
from models import ApiToken, Conversation, Message, StaffMember, Team, db

from ..inbox.staff import conversation as new_conversation

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"


def issue(brand_id, created_by_id, read_only=False, name="CRM"):
    """Return the plain form of a new token of `brand_id` (committed)."""
    _token, plain = ApiToken.issue(brand_id, name, read_only, created_by_id)
    db.session.commit()
    return plain


def member(email):
    return db.session.scalar(db.select(StaffMember).filter_by(email=email))


class Api:
    """The test client of the app, sending `Authorization: Bearer <token>` to /api/v1."""

    def __init__(self, client, plain):
        self.client, self.plain = client, plain

    def as_token(self, plain):
        return Api(self.client, plain)

    def call(self, method, path, headers=None, **kwargs):
        headers = {**({"Authorization": f"Bearer {self.plain}"} if self.plain else {}),
                   **(headers or {})}
        return self.client.open(PREFIX + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.call("PATCH", path, **kwargs)


def is_problem(response, status):
    """True if `response` is a problem document of `status` that says what went wrong."""
    document = response.get_json(force=True, silent=True) or {}
    return (response.status_code == status and response.mimetype == PROBLEM
            and document.get("status") == status and bool(document.get("title"))
            and bool(document.get("detail")))


def count(model, **where):
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**where))


def fresh(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


@pytest.fixture
def admin(demo):
    return member("admin@demo.example")


@pytest.fixture
def token(demo, admin):
    """A read-write token of the demo brand, created by its admin."""
    return issue(demo.id, admin.id)


@pytest.fixture
def read_only_token(demo, admin):
    return issue(demo.id, admin.id, read_only=True, name="Reports")


@pytest.fixture
def api(client, token):
    return Api(client, token)


@pytest.fixture
def conversation(demo):
    """A demo conversation in room 412 with one customer message."""
    return new_conversation(demo, "Could I have more towels?")


@pytest.fixture
def other_brand(demo):
    """A second brand with its own place, team, admin, conversation (customer message and a
    staff reply) and read-write token."""
    brand, owner, _link = create_brand("other-hotel", "Other Hotel", "owner@other.example")
    team = db.session.scalar(db.select(Team).filter_by(brand_id=brand.id))
    convo = new_conversation(brand, "Hello from B", team_id=team.id)
    convo.add_message("staff", "Welcome", staff=owner)
    db.session.commit()
    return SimpleNamespace(brand=brand, brand_id=brand.id, staff_id=owner.id, team_id=team.id,
                           conversation_id=convo.id, touchpoint_id=convo.touchpoint_id,
                           category_ids=[c.id for c in brand.categories],
                           token=issue(brand.id, owner.id))


def snapshot(conversation_id):
    """Every column of a conversation and its messages, read afresh."""
    db.session.expire_all()
    row = db.session.get(Conversation, conversation_id)
    columns = {c.key: getattr(row, c.key) for c in Conversation.__table__.columns}
    messages = db.session.execute(db.select(Message.id, Message.body, Message.internal)
                                  .filter_by(conversation_id=conversation_id)
                                  .order_by(Message.id)).all()
    return columns, messages
