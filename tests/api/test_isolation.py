"""A token sees and changes its own brand only: another brand's objects look absent (404) and
can be named in nothing it writes (422)."""
import pytest

from models import Message

from .conftest import count, is_problem, member, snapshot

LISTS = ("/conversations", "/staff", "/teams", "/touchpoints", "/categories")


def items(response):
    document = response.get_json()
    return document["items"] if isinstance(document, dict) else document


def test_the_other_brand_sees_its_own_conversation(api, other_brand):
    """The control: B's token reads what A's is refused, so the 404s below mean something."""
    theirs = api.as_token(other_brand.token)
    path = f"/conversations/{other_brand.conversation_id}"
    assert theirs.get(path).status_code == 200
    assert [m["body"] for m in theirs.get(path + "/messages").get_json()["items"]] == \
        ["Hello from B", "Welcome"]


def test_another_brands_conversation_is_absent(api, conversation, other_brand):
    path = f"/conversations/{other_brand.conversation_id}"
    before = snapshot(other_brand.conversation_id)
    agent = member("agent@demo.example")
    answers = [
        api.get(path),
        api.get(path + "/messages"),
        api.get(path + "/messages?include_notes=true"),
        api.post(path + "/messages", json={"body": "Hi from A", "staff_id": agent.id}),
        api.post(path + "/messages", json={"body": "Note from A", "staff_id": agent.id,
                                           "internal": True}),
        api.post(path + "/messages", json={"body": "Hi", "staff_id": other_brand.staff_id}),
        api.patch(path, json={"status": "resolved"}),
        api.patch(path, json={"sentiment": "negative", "staff_id": other_brand.staff_id}),
        api.patch(path, json={"assignee_id": other_brand.staff_id}),
    ]
    # Indistinguishable from an id no conversation has.
    unknown = api.get("/conversations/999999").get_json()
    for answer in answers:
        assert is_problem(answer, 404), answer.get_data(as_text=True)
        assert answer.get_json() == unknown
    assert snapshot(other_brand.conversation_id) == before


@pytest.mark.parametrize("path", LISTS)
def test_lists_hold_nothing_of_another_brand(api, conversation, other_brand, path):
    mine = api.get(path)
    theirs = api.as_token(other_brand.token).get(path)
    assert mine.status_code == theirs.status_code == 200
    mine_ids, their_ids = {i["id"] for i in items(mine)}, {i["id"] for i in items(theirs)}
    assert mine_ids and their_ids and not mine_ids & their_ids
    if path == "/staff":
        assert "owner@other.example" not in {i["email"] for i in items(mine)}
        assert other_brand.staff_id in their_ids
    if path == "/teams":
        assert other_brand.team_id in their_ids
    if path == "/categories":
        assert mine_ids.isdisjoint(other_brand.category_ids)


def test_filters_naming_another_brands_ids_find_nothing(api, conversation, other_brand):
    for query in (f"touchpoint_id={other_brand.touchpoint_id}",
                  f"team_id={other_brand.team_id}", f"assignee_id={other_brand.staff_id}"):
        response = api.get("/conversations?" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["items"] == []
    # B's own token finds its conversation by the same filter.
    theirs = api.as_token(other_brand.token).get(
        f"/conversations?team_id={other_brand.team_id}")
    assert [c["id"] for c in theirs.get_json()["items"]] == [other_brand.conversation_id]


def test_another_brands_staff_and_team_cannot_be_given_a_conversation(api, conversation,
                                                                      other_brand):
    path = f"/conversations/{conversation.id}"
    before = snapshot(conversation.id)
    for changes, field in (({"assignee_id": other_brand.staff_id}, "assignee_id"),
                           ({"team_id": other_brand.team_id}, "team_id"),
                           ({"staff_id": other_brand.staff_id, "status": "resolved"},
                            "staff_id")):
        response = api.patch(path, json=changes)
        assert is_problem(response, 422), response.get_data(as_text=True)
        assert field in response.get_json()["errors"]
    assert snapshot(conversation.id) == before


def test_another_brands_staff_cannot_write_in_this_brand(api, conversation, other_brand):
    before, messages = snapshot(conversation.id), count(Message)
    for internal in (False, True):
        response = api.post(f"/conversations/{conversation.id}/messages",
                            json={"body": "From B's owner", "staff_id": other_brand.staff_id,
                                  "internal": internal})
        assert is_problem(response, 422), response.get_data(as_text=True)
        assert "staff_id" in response.get_json()["errors"]
    assert snapshot(conversation.id) == before and count(Message) == messages
