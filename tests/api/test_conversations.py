"""Conversations through the API: lists and their filters, pages, messages, replies and notes,
status, assignment, teams and tags, each doing what the inbox's own operation does."""
from datetime import datetime

import pytest

from app.alerts.webhooks import body_of
from app.core import payloads
from app.inbox import service
from models import Category, Conversation, Message, OutboxEvent, TagCorrection, Team, db

from ..inbox.staff import conversation as new_conversation
from .conftest import count, fresh, member


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def category(brand, slug):
    return db.session.scalar(db.select(Category).filter_by(brand_id=brand.id, slug=slug))


def desk(brand):
    return db.session.scalar(db.select(Team).filter_by(brand_id=brand.id, slug="front-desk"))


def set_updated_at(conversation, moment):
    db.session.execute(db.update(Conversation).where(Conversation.id == conversation.id)
                       .values(updated_at=moment))
    db.session.commit()


@pytest.fixture
def three(demo):
    """Three demo conversations that differ in every filter the list takes."""
    agent, lead = member("agent@demo.example"), member("lead@demo.example")
    places = demo.touchpoints
    first = new_conversation(demo, "The shower is cold", touchpoint=places[0], status="open",
                             category=category(demo, "cleanliness"), sentiment="negative",
                             urgency="urgent", assignee_id=agent.id, team_id=desk(demo).id)
    second = new_conversation(demo, "Lovely breakfast", touchpoint=places[1], status="pending",
                              category=category(demo, "food_drink"), sentiment="positive",
                              urgency="normal", assignee_id=lead.id)
    third = new_conversation(demo, "Wi-Fi password?", touchpoint=places[2], status="resolved",
                             sentiment="neutral")
    set_updated_at(first, datetime(2026, 1, 1, 10, 0))  # naive UTC, as stored
    set_updated_at(second, datetime(2026, 1, 1, 8, 0))
    set_updated_at(third, datetime(2025, 12, 31, 23, 0))
    return first, second, third


FILTERS = {
    "status=open": [0], "status=pending": [1], "status=resolved": [2],
    "touchpoint_id={tp1}": [1], "touchpoint_id={tp2}": [2],
    "category=cleanliness": [0], "category=food_drink": [1], "category=other": [],
    "sentiment=negative": [0], "sentiment=neutral": [2],
    "urgency=urgent": [0], "urgency=normal": [1],
    "assignee_id={agent}": [0], "assignee_id={lead}": [1],
    "team_id={desk}": [0],
    # 12:30 in Istanbul is 09:30 UTC: only the first was updated after it.
    "updated_since=2026-01-01T12:30:00%2B03:00": [0],
    "updated_since=2026-01-01T08:00:00Z": [0, 1],
    "updated_since=2025-12-31T22:00:00-02:00": [0, 1],
    "status=open&sentiment=positive": [],
    "sentiment=positive&urgency=normal": [1],
}


@pytest.mark.parametrize("query", FILTERS)
def test_each_filter_lists_only_what_it_names(api, demo, three, query):
    names = {"tp1": three[1].touchpoint_id, "tp2": three[2].touchpoint_id,
             "agent": member("agent@demo.example").id, "lead": member("lead@demo.example").id,
             "desk": desk(demo).id}
    assert ids(api.get("/conversations?" + query.format(**names))) == \
        [three[n].id for n in FILTERS[query]]


def test_without_filters_every_conversation_is_listed_oldest_first(api, three):
    assert ids(api.get("/conversations")) == [c.id for c in three]


def test_a_time_without_a_zone_is_refused(api, three):
    response = api.get("/conversations?updated_since=2026-01-01T08:00:00")
    assert response.status_code == 422
    assert "updated_since" in response.get_json()["errors"]


def test_an_api_change_counts_as_an_update(api, three):
    """What the API changes moves updated_at: a CRM syncing with updated_since sees it."""
    since = "2026-01-01T10:00:01Z"  # a second after the newest of the three changed
    assert ids(api.get(f"/conversations?updated_since={since}")) == []
    assert api.patch(f"/conversations/{three[2].id}", json={"status": "open"}).status_code == 200
    assert ids(api.get(f"/conversations?updated_since={since}")) == [three[2].id]


def walk(api, path, limit, **filters):
    """Return the ids of every page of `path` with `filters`, and the number of pages."""
    seen, pages, cursor = [], 0, None
    while True:
        query = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, query_string=query)
        page = ids(response)
        assert len(page) <= limit
        seen += page
        pages += 1
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return seen, pages
        assert pages < 20, "the cursor never ends"


def test_cursor_pages_walk_every_conversation_once(api, demo):
    made = [new_conversation(demo, f"Question {n}").id for n in range(7)]
    seen, pages = walk(api, "/conversations", 3)
    assert seen == made and pages == 3


def test_cursor_pages_keep_their_filter(api, demo):
    made = [new_conversation(demo, f"Question {n}", status=("open", "pending")[n % 2]).id
            for n in range(11)]
    seen, pages = walk(api, "/conversations", 3, status="open")
    assert seen == made[::2] and pages == 2
    # A page exactly full says there is more only if there is.
    seen, pages = walk(api, "/conversations", 5, status="pending")
    assert seen == made[1::2] and pages == 1


def test_cursor_pages_walk_every_message_once(api, conversation, admin):
    for n in range(4):
        service.add_note(conversation, admin, f"Note {n}")
    stored = db.session.scalars(db.select(Message.id).filter_by(
        conversation_id=conversation.id).order_by(Message.id)).all()
    seen, pages = walk(api, f"/conversations/{conversation.id}/messages", 2,
                        include_notes="true")
    assert seen == stored and len(stored) == 5 and pages == 3


def test_one_conversation_reads_as_webhooks_send_it(api, demo, three):
    for made in three:
        response = api.get(f"/conversations/{made.id}")
        assert response.status_code == 200
        row = fresh(made)
        assert response.get_json() == payloads.conversation_data(row)
        # The webhook's conversation object, built as a delivery builds it.
        event = OutboxEvent(id=1, conversation=row, kind="conversation.resolved", payload={})
        assert response.get_json() == body_of(event)["data"]["conversation"]
    first = api.get(f"/conversations/{three[0].id}").get_json()
    assert first["place"] == demo.touchpoints[0].label and first["category"] == "cleanliness"
    assert first["assignee"] == "agent@demo.example" and first["team"] == "Front desk"
    assert first["url"] == f"http://kulak.test/inbox/c/{three[0].id}"


def test_the_list_shows_each_conversation_as_it_reads_alone(api, three):
    listed = api.get("/conversations").get_json()["items"]
    assert listed == [api.get(f"/conversations/{c.id}").get_json() for c in three]


def test_an_unknown_conversation_is_404(api, conversation):
    for path in ("/conversations/999999", "/conversations/999999/messages"):
        assert api.get(path).status_code == 404


def test_notes_are_listed_only_when_asked(api, conversation, admin):
    note = service.add_note(conversation, admin, "Guest is a regular: upgrade if free")
    path = f"/conversations/{conversation.id}/messages"
    public = api.get(path).get_json()["items"]
    assert [m["body"] for m in public] == ["Could I have more towels?"]
    assert public[0]["author"] == "customer" and public[0]["internal"] is False
    everything = api.get(path + "?include_notes=true").get_json()["items"]
    assert [m["id"] for m in everything] == [public[0]["id"], note.id]
    assert everything[1] == payloads.message_data(fresh(note))
    assert everything[1]["internal"] is True and everything[1]["staff_id"] == admin.id
    assert api.get(path + "?include_notes=false").get_json()["items"] == public


def test_a_reply_is_sent_as_the_named_staff_member(api, conversation):
    agent = member("agent@demo.example")
    response = api.post(f"/conversations/{conversation.id}/messages",
                        json={"body": "Towels are on their way.", "staff_id": agent.id})
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    stored = db.session.get(Message, answer["id"])
    assert (stored.author_kind, stored.staff_id, stored.body, stored.internal) == \
        ("staff", agent.id, "Towels are on their way.", False)
    assert answer == payloads.message_data(stored)
    row = fresh(conversation)
    # What service.reply does: answered, waiting for the customer, taken by who answered.
    assert row.first_response_at == stored.created_at
    assert row.status == "pending" and row.assignee_id == agent.id
    assert row.waiting_since is None and row.last_message_at == stored.created_at
    assert api.get(f"/conversations/{conversation.id}").get_json() == \
        payloads.conversation_data(row)
    public = api.get(f"/conversations/{conversation.id}/messages").get_json()["items"]
    assert [m["author"] for m in public] == ["customer", "staff"]


def test_a_second_reply_keeps_the_first_response_time(api, conversation):
    agent, path = member("agent@demo.example"), f"/conversations/{conversation.id}/messages"
    first = api.post(path, json={"body": "One", "staff_id": agent.id}).get_json()
    api.post(path, json={"body": "Two", "staff_id": agent.id})
    assert fresh(conversation).first_response_at == \
        db.session.get(Message, first["id"]).created_at


def test_an_internal_post_is_a_note(api, conversation):
    lead = member("lead@demo.example")
    response = api.post(f"/conversations/{conversation.id}/messages",
                        json={"body": "Call housekeeping", "staff_id": lead.id,
                              "internal": True})
    assert response.status_code == 201
    stored = db.session.get(Message, response.get_json()["id"])
    assert (stored.author_kind, stored.staff_id, stored.internal) == ("staff", lead.id, True)
    row = fresh(conversation)
    # A note answers no one: the conversation still waits for its first response.
    assert row.status == "open" and row.first_response_at is None and row.assignee_id is None
    assert row.waiting_since is not None
    public = api.get(f"/conversations/{conversation.id}/messages").get_json()["items"]
    assert stored.id not in [m["id"] for m in public]


def test_resolve_then_reopen(api, conversation, admin):
    path = f"/conversations/{conversation.id}"
    response = api.patch(path, json={"status": "resolved"})
    assert response.status_code == 200 and response.get_json()["status"] == "resolved"
    row = fresh(conversation)
    assert row.status == "resolved" and row.resolved_at is not None and row.resolved_count == 1
    assert response.get_json() == payloads.conversation_data(row)
    # As the inbox: an activity line, written as the token's creator.
    activity = db.session.scalars(db.select(Message).filter_by(
        conversation_id=conversation.id, author_kind="system")).all()
    assert [m.internal for m in activity] == [True] and admin.name in activity[0].body

    response = api.patch(path, json={"status": "open"})
    assert response.status_code == 200 and response.get_json()["status"] == "open"
    row = fresh(conversation)
    assert row.status == "open" and row.resolved_at is None
    assert count(Message, conversation_id=conversation.id, author_kind="system") == 2


def test_resolving_twice_changes_nothing_the_second_time(api, conversation):
    path = f"/conversations/{conversation.id}"
    api.patch(path, json={"status": "resolved"})
    before = count(Message, conversation_id=conversation.id)
    assert api.patch(path, json={"status": "resolved"}).status_code == 200
    assert count(Message, conversation_id=conversation.id) == before
    assert fresh(conversation).resolved_count == 1


def test_assign_and_move_to_a_team(api, demo, conversation):
    lead, team = member("lead@demo.example"), desk(demo)
    path = f"/conversations/{conversation.id}"
    response = api.patch(path, json={"assignee_id": lead.id, "staff_id": lead.id})
    assert response.status_code == 200
    assert response.get_json()["assignee_id"] == lead.id
    assert response.get_json()["assignee"] == "lead@demo.example"
    assert fresh(conversation).assignee_id == lead.id

    response = api.patch(path, json={"team_id": team.id})
    assert response.status_code == 200
    row = fresh(conversation)
    # As the inbox's transfer: the team's queue, nobody's in particular.
    assert (row.team_id, row.assignee_id) == (team.id, None)
    assert response.get_json() == payloads.conversation_data(row)


def test_a_team_and_an_assignee_in_one_call_keeps_both(api, demo, conversation):
    agent, team = member("agent@demo.example"), desk(demo)
    response = api.patch(f"/conversations/{conversation.id}",
                         json={"team_id": team.id, "assignee_id": agent.id})
    assert response.status_code == 200
    row = fresh(conversation)
    assert (row.team_id, row.assignee_id) == (team.id, agent.id)
    assert response.get_json()["assignee_id"] == agent.id


def test_tag_corrections_are_kept_for_retraining(api, demo, conversation):
    agent = member("agent@demo.example")
    response = api.patch(f"/conversations/{conversation.id}",
                         json={"sentiment": "negative", "category": "cleanliness",
                               "urgency": "urgent", "staff_id": agent.id})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert (answer["sentiment"], answer["category"], answer["urgency"]) == \
        ("negative", "cleanliness", "urgent")
    row = fresh(conversation)
    assert row.category_id == category(demo, "cleanliness").id and row.sentiment == "negative"
    assert row.tag_details["sentiment"]["by"] == "staff"
    corrections = db.session.scalars(db.select(TagCorrection).filter_by(
        conversation_id=conversation.id).order_by(TagCorrection.field)).all()
    assert [(c.field, c.old_value, c.new_value, c.staff_id, c.brand_id) for c in corrections] == [
        ("category", None, "cleanliness", agent.id, demo.id),
        ("sentiment", None, "negative", agent.id, demo.id),
        ("urgency", None, "urgent", agent.id, demo.id)]
    assert all(c.text == "Could I have more towels?" for c in corrections)
    # The same values again are no correction.
    api.patch(f"/conversations/{conversation.id}", json={"sentiment": "negative"})
    assert count(TagCorrection, conversation_id=conversation.id) == 3


def test_a_patch_with_one_bad_field_changes_nothing(api, demo, conversation):
    before = count(Message, conversation_id=conversation.id)
    agent = member("agent@demo.example")
    for changes, field in (({"status": "resolved", "category": "no-such-category"},
                            "category"),
                           ({"sentiment": "negative", "assignee_id": 999999}, "assignee_id"),
                           ({"assignee_id": agent.id, "team_id": 999999}, "team_id")):
        response = api.patch(f"/conversations/{conversation.id}", json=changes)
        assert response.status_code == 422 and field in response.get_json()["errors"]
    row = fresh(conversation)
    assert (row.status, row.sentiment, row.category_id, row.assignee_id, row.team_id) == \
        ("open", None, None, None, None)
    assert count(Message, conversation_id=conversation.id) == before
    assert count(TagCorrection) == 0


def test_staff_who_work_elsewhere_cannot_write_or_take_it(api, demo, conversation):
    """A member of staff limited to other places may not reply to, note or be given a
    conversation of this place, as in the inbox (scoping.may_hold)."""
    agent = member("agent@demo.example")
    agent.touchpoints = [demo.touchpoints[1]]  # table 7 only; the conversation is room 412's
    db.session.commit()
    path = f"/conversations/{conversation.id}"
    before = count(Message, conversation_id=conversation.id)
    for internal in (False, True):
        response = api.post(path + "/messages", json={"body": "Hi", "staff_id": agent.id,
                                                      "internal": internal})
        assert response.status_code == 422 and "staff_id" in response.get_json()["errors"]
    response = api.patch(path, json={"assignee_id": agent.id})
    assert response.status_code == 422 and "assignee_id" in response.get_json()["errors"]
    assert count(Message, conversation_id=conversation.id) == before
    assert fresh(conversation).assignee_id is None
    # At their own place they may.
    agent.touchpoints = [demo.touchpoints[0]]
    db.session.commit()
    assert api.patch(path, json={"assignee_id": agent.id}).status_code == 200


def test_inactive_staff_cannot_act(api, demo, admin, conversation):
    agent = member("agent@demo.example")
    agent.active = False
    db.session.commit()
    path = f"/conversations/{conversation.id}"
    for response in (api.post(path + "/messages", json={"body": "Hi", "staff_id": agent.id}),
                     api.patch(path, json={"status": "resolved", "staff_id": agent.id})):
        assert response.status_code == 422 and "staff_id" in response.get_json()["errors"]
    response = api.patch(path, json={"assignee_id": agent.id})
    assert response.status_code == 422 and "assignee_id" in response.get_json()["errors"]
    # A token whose creator left acts as nobody: a write must name who does it.
    db.session.get(type(admin), admin.id).active = False
    db.session.commit()
    response = api.patch(path, json={"status": "resolved"})
    assert response.status_code == 422 and "staff_id" in response.get_json()["errors"]
    assert fresh(conversation).status == "open"
    lead = member("lead@demo.example")
    assert api.patch(path, json={"status": "resolved", "staff_id": lead.id}).status_code == 200
