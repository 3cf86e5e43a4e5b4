"""Routing: rules pick a team; the online member with the fewest open conversations takes it."""
import uuid

import pytest
import redis
from sqlalchemy import delete, select

from app.core.presence import RedisPresence
from models import Conversation, Message, RoutingRule, StaffMember, Team, Touchpoint, db

from .staff import conversation, customer_journey

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def front_desk(demo):
    return db.session.scalar(select(Team).filter_by(brand_id=demo.id, slug="front-desk"))


def rule(brand, team, **conditions):
    """Add a rule before the demo's catch-all (position 1)."""
    conditions.setdefault("position", 0)
    made = RoutingRule(brand_id=brand.id, team_id=team.id, **conditions)
    db.session.add(made)
    db.session.commit()
    return made


def opened(client, body="Could I have more towels?", **fields):
    db.session.expire_all()
    token = customer_journey(client, body, **fields)
    convo = db.session.scalar(select(Conversation).filter_by(token=token))
    acknowledgement = db.session.scalar(select(Message.body).filter_by(
        conversation_id=convo.id, author_kind="system"))
    return convo, acknowledgement


def test_without_rules_a_conversation_waits_unassigned_for_anyone(client, demo, people, online):
    db.session.execute(delete(RoutingRule))  # the demo sends everything to the front desk
    db.session.commit()
    online(people["agent"])
    convo, acknowledgement = opened(client)
    assert convo.team_id is None and convo.assignee_id is None
    assert "The front desk will answer within 5 minutes" in acknowledgement


def test_the_online_member_with_fewest_open_conversations_takes_it(client, demo, people,
                                                                   front_desk, online):
    rule(demo, front_desk)
    agent, lead = people["agent"], people["lead"]
    online(agent)
    online(lead)
    conversation(demo, "Already with the agent", assignee=agent, team=front_desk)
    convo, acknowledgement = opened(client)
    assert (convo.team_id, convo.assignee_id) == (front_desk.id, lead.id)
    assert "Mehmet Kaya from Front desk will answer within 5 minutes" in acknowledgement


def test_ties_go_round_robin(client, demo, people, front_desk, online):
    rule(demo, front_desk)
    online(people["agent"])
    online(people["lead"])
    takers = []
    for _ in range(4):
        convo, _ack = opened(client)
        takers.append(convo.assignee_id)
        db.session.get(Conversation, convo.id).status = "resolved"  # keep open counts equal
        db.session.commit()
    assert set(takers[:2]) == {people["agent"].id, people["lead"].id}
    assert takers[2:] == takers[:2]


def test_with_nobody_online_it_waits_in_the_team_queue_and_the_customer_is_told(
        client, demo, people, front_desk, online):
    rule(demo, front_desk)
    online(people["manager"])  # online, but not in the front desk team
    convo, acknowledgement = opened(client)
    assert (convo.team_id, convo.assignee_id) == (front_desk.id, None)
    assert "Nobody from Front desk is online right now" in acknowledgement
    assert "within 5 minutes" not in acknowledgement


def test_the_first_matching_rule_wins_and_conditions_narrow_it(client, demo, people,
                                                               front_desk, online):
    night = Team(brand_id=demo.id, slug="night", name="Night shift", members=[people["lead"]])
    db.session.add(night)
    db.session.commit()
    room = db.session.scalar(select(Touchpoint).filter_by(brand_id=demo.id, slug="room-412"))
    rule(demo, night, urgency="urgent", touchpoint_id=room.id, position=-3)
    rule(demo, night, language="tr", position=-2)
    rule(demo, front_desk, position=-1)
    online(people["agent"])
    online(people["lead"])
    urgent, _ack = opened(client, "There is smoke in the corridor, come now")
    calm, _ack = opened(client, "Could I have more towels?")
    assert urgent.urgency == "urgent" and urgent.team_id == night.id
    assert calm.team_id == front_desk.id and calm.assignee_id == people["agent"].id


def test_presence_through_redis_is_shared_by_processes_and_expires(demo):
    prefix = f"kulak:test-{uuid.uuid4().hex}:"
    process_a, process_b = RedisPresence(REDIS_URL, prefix), RedisPresence(REDIS_URL, prefix)
    staff = db.session.scalar(select(StaffMember).filter_by(email="agent@demo.example"))
    process_a.arrive(demo.id, staff.id)
    process_a.arrive(demo.id, staff.id)  # a second tab
    assert process_b.online(demo.id) == {staff.id}
    process_a.leave(demo.id, staff.id)
    assert process_b.online(demo.id) == {staff.id}  # the other tab is still open
    process_a.leave(demo.id, staff.id)
    assert process_b.online(demo.id) == set()
    # A process that died leaves an entry nobody refreshes: it stops counting once expired.
    client = redis.Redis.from_url(REDIS_URL)
    client.zadd(f"{prefix}presence:{demo.id}", {f"{staff.id}:dead-process": 1.0})
    assert process_b.online(demo.id) == set()
    client.delete(f"{prefix}presence:{demo.id}")
