"""Fixtures of the report tests: a hand-worked week of conversations, and who reads it."""
from datetime import datetime, timedelta

import pytest

from app.admin.setup import create_brand
from models import Conversation, Rating, StaffMember, Team, db

from ..inbox.staff import Staff

# Monday 2 to Sunday 8 March 2026 in the demo's zone (Europe/Istanbul, UTC+3 all year).
WEEK = {"period": "custom", "start": "2026-03-02", "end": "2026-03-08"}
MONDAY = datetime(2026, 3, 2, 9, 0)  # 12:00 in Istanbul, naive UTC as stored
# First responses in seconds: a tie at 120; median 120, p90 480, mean 240; 3 within 3 min.
FIRST_RESPONSES = (60, 120, 120, 300, 600)


def member(email):
    return db.session.scalar(db.select(StaffMember).filter_by(email=email))


def add(brand, created, first=None, resolved=None, **columns):
    """Store a conversation created at `created` (naive UTC), answered `first` seconds and
    resolved `resolved` seconds later."""
    columns.setdefault("touchpoint", brand.touchpoints[0])
    convo = Conversation(brand=brand, created_at=created, last_message_at=created, **columns)
    if first is not None:
        convo.first_response_at = created + timedelta(seconds=first)
    if resolved is not None:
        convo.resolved_at, convo.status = created + timedelta(seconds=resolved), "resolved"
        convo.resolved_count = 1
    convo.add_message("customer", "Merhaba").created_at = created
    db.session.add(convo)
    db.session.commit()
    return convo


def rate(convo, csat=None, nps=None, round_=1):
    db.session.add(Rating(brand_id=convo.brand_id, conversation_id=convo.id, round=round_,
                          csat=csat, nps=nps))
    # What app.widget.satisfaction.rate keeps: the newest round's answer on the conversation.
    newest = db.session.scalar(db.select(db.func.max(Rating.round)).filter_by(
        conversation_id=convo.id))
    if round_ >= (newest or 0):
        convo.csat, convo.nps = csat, nps
    db.session.commit()


@pytest.fixture
def week(demo):
    """Five answered conversations of the week, all the agent's, and one outside it."""
    agent = member("agent@demo.example")
    team = db.session.scalar(db.select(Team).filter_by(brand_id=demo.id))
    made = [add(demo, MONDAY + timedelta(hours=n), first=seconds, resolved=seconds + 1800 * n,
                assignee_id=agent.id, team_id=team.id, sentiment="positive")
            for n, seconds in enumerate(FIRST_RESPONSES)]
    add(demo, MONDAY - timedelta(days=3), first=5)  # the week before: not counted
    return made


@pytest.fixture
def manager(app, demo):
    return Staff(app, "manager@demo.example")


@pytest.fixture
def other_brand(app, demo):
    brand, owner, _token = create_brand("other-hotel", "Other Hotel", "owner@other.example")
    db.session.expire_all()
    return brand, owner
