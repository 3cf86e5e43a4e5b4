"""Branch scoping in routing, alerts and escalation: only who works at a conversation's place."""
import time

from sqlalchemy import delete, select

from app.alerts.escalation import escalate, targets_of
from app.alerts.service import people_to_alert, recipients
from app.routing.service import hand_out_waiting
from models import (
    Escalation,
    EscalationLevel,
    OutboxEvent,
    db,
)
from models.common import utcnow

from ..receivers import wait_for
from .scoping import alerted, dispatched, hook, limit, named, start_at
from .staff import conversation, fresh

# --- Routing -------------------------------------------------------------------------------

def test_routing_gives_a_conversation_only_to_someone_who_works_at_its_touchpoint(
        client, demo, places, people, online):
    agent, lead = people["agent"], people["lead"]
    limit(agent, places["table-7"])
    online(agent)
    online(lead)
    conversation(demo, "Keeps the lead busy", assignee=lead, status="pending")
    # The agent is less busy, but works only at table 7.
    assert start_at(client, "room-412", "Could I have more towels?").assignee_id == lead.id
    assert start_at(client, "table-7", "Could we have the menu?").assignee_id == agent.id


def test_coming_online_hands_out_only_what_the_person_may_see(client, demo, places, people,
                                                            online):
    agent, lead = people["agent"], people["lead"]
    limit(agent, places["table-7"])
    waiting = start_at(client, "room-412", "The shower has no hot water")
    assert waiting.assignee_id is None
    online(agent)
    assert hand_out_waiting(agent) == 0
    assert fresh(waiting).assignee_id is None
    online(lead)
    assert hand_out_waiting(lead) == 1
    assert fresh(waiting).assignee_id == lead.id



# --- Alerts and escalation -----------------------------------------------------------------

NEGATIVE_URGENT = "There is water pouring from the ceiling onto the bed, this is terrible"


def test_alerts_reach_only_staff_who_see_the_conversation(client, demo, places, people,
                                                          http_receiver):
    agent, lead = people["agent"], people["lead"]
    limit(agent, places["table-7"])
    hook(agent, http_receiver)
    hook(lead, http_receiver)
    convo = start_at(client, "room-412", NEGATIVE_URGENT)  # nobody online: the team hears
    dispatched("conversation.created", convo)
    assert alerted(http_receiver) == ["lead"]
    http_receiver.requests.clear()
    at_table = start_at(client, "table-7", NEGATIVE_URGENT)
    dispatched("conversation.created", at_table)
    assert alerted(http_receiver) == ["agent", "lead"]


def test_leads_of_a_conversation_without_a_team_are_only_those_who_see_it(demo, places,
                                                                          people):
    limit(people["manager"], places["table-7"])
    convo = conversation(demo, "Smoke in the corridor", touchpoint=places["room-412"],
                         urgency="urgent")
    assert named(recipients(convo)) == ["lead"]
    placeless = conversation(demo, "Smoke on the website", touchpoint=None, urgency="urgent")
    assert named(recipients(placeless)) == ["lead"]
    event = OutboxEvent(brand_id=demo.id, conversation=convo, kind="conversation.escalated",
                        payload={"staff_ids": [people["manager"].id, people["lead"].id]})
    assert named(people_to_alert(event)) == ["lead"]


def test_escalation_targets_by_role_team_and_person_drop_those_who_cannot_see_it(
        demo, desk, places, people):
    agent, manager = people["agent"], people["manager"]
    limit(agent, places["table-7"])
    limit(manager, places["table-7"])
    convo = conversation(demo, "Nobody came", touchpoint=places["room-412"], team=desk)

    def names(kind, value):
        level = EscalationLevel(brand_id=demo.id, after_seconds=1, urgent_after_seconds=1,
                                target_kind=kind, target_value=value)
        return named(targets_of(level, convo))
    assert names("role", "manager") == []
    assert names("role", "lead") == ["lead"]
    assert names("team", str(desk.id)) == ["lead"]
    assert names("staff", str(agent.id)) == []
    table = conversation(demo, "Nobody came", touchpoint=places["table-7"], team=desk)
    level = EscalationLevel(brand_id=demo.id, after_seconds=1, urgent_after_seconds=1,
                            target_kind="role", target_value="manager")
    assert named(targets_of(level, table)) == ["manager"]


def test_an_escalation_reassigns_and_alerts_only_someone_who_sees_it(client, demo, places,
                                                                     people, http_receiver):
    manager, admin = people["manager"], people["admin"]
    limit(manager, places["table-7"])
    db.session.execute(delete(EscalationLevel).filter_by(brand_id=demo.id))
    db.session.add_all([
        EscalationLevel(brand_id=demo.id, position=0, after_seconds=600,
                        urgent_after_seconds=600, action="reassign", target_kind="staff",
                        target_value=str(manager.id)),
        EscalationLevel(brand_id=demo.id, position=1, after_seconds=600,
                        urgent_after_seconds=600, action="reassign", target_kind="role",
                        target_value="admin")])
    db.session.commit()
    hook(manager, http_receiver)
    hook(admin, http_receiver)
    convo = start_at(client, "room-412", "Could we have an extra blanket?")
    first, second = db.session.scalars(select(Escalation).filter_by(
        conversation_id=convo.id).order_by(Escalation.due_at)).all()
    for escalation in (first, second):
        escalation.due_at = utcnow()
        db.session.commit()
        assert escalate(escalation.id) == "fired"
    assert fresh(convo).assignee_id == admin.id  # the manager was never given it
    dispatched("conversation.escalated", convo)
    assert wait_for(lambda: alerted(http_receiver) == ["admin"])
    time.sleep(0.2)  # a wrong alert to the manager would have come with the admin's
    assert alerted(http_receiver) == ["admin"]
