"""Models on SQLite and PostgreSQL: the demo seed, tokens, idempotent posts."""
import pytest
from sqlalchemy.exc import IntegrityError

from app.demo import seed_demo
from models import Conversation, Message, StaffMember, Survey, db
from models.brand import DEFAULT_CATEGORIES
from models.conversation import TOKEN_PATTERN

from .conftest import DEMO_PASSWORD


def test_demo_seed_creates_brand_touchpoints_survey_categories_team_and_staff(demo):
    assert demo.name == "Demo Hotel"
    assert [t.slug for t in demo.touchpoints] == ["room-412", "table-7", "web"]
    assert [c.slug for c in demo.categories] == [slug for slug, *_ in DEFAULT_CATEGORIES]
    survey = Survey.for_touchpoint(demo, demo.touchpoint("room-412"))
    assert [(q.kind, q.text("en")) for q in survey.questions] == [
        ("rating", "How is your stay?"), ("yes_no", "Was your room clean?")]
    roles = {s.email: s.role for s in db.session.scalars(db.select(StaffMember))}
    assert roles == {"agent@demo.example": "agent", "lead@demo.example": "lead",
                     "manager@demo.example": "manager", "admin@demo.example": "admin"}


def test_demo_seed_is_repeatable_and_keeps_passwords_unless_told(demo):
    assert seed_demo() == {}
    agent = db.session.scalar(db.select(StaffMember).filter_by(email="agent@demo.example"))
    assert agent.check_password(DEMO_PASSWORD)
    assert not agent.check_password("wrong")
    assert agent.password_hash.startswith("scrypt:")
    assert len(demo.touchpoints) == 3 and len(demo.categories) == len(DEFAULT_CATEGORIES)


def test_generated_demo_passwords_are_printed_once(app):
    first = seed_demo()
    assert set(first) == {"agent@demo.example", "lead@demo.example", "manager@demo.example",
                          "admin@demo.example"}
    assert all(len(p) >= 12 for p in first.values())
    assert seed_demo() == {}


def test_conversation_tokens_are_long_random_and_distinct(demo):
    conversations = [Conversation(brand=demo) for _ in range(50)]
    db.session.add_all(conversations)
    db.session.commit()
    tokens = {c.token for c in conversations}
    assert len(tokens) == 50
    assert all(TOKEN_PATTERN.match(t) for t in tokens)
    assert Conversation.by_token(conversations[0].token) is conversations[0]
    assert Conversation.by_token(conversations[0].token[:-1]) is None
    assert Conversation.by_token("' OR 1=1 --") is None


def test_database_refuses_a_second_message_with_the_same_client_id(demo):
    conversation = Conversation(brand=demo)
    conversation.add_message("customer", "hello", client_id="same-client-id")
    db.session.add(conversation)
    db.session.commit()
    conversation.add_message("customer", "hello", client_id="same-client-id")
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 1
