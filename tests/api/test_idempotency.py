"""Idempotency-Key: a retried POST gets the first answer and writes nothing more."""
import hashlib
import json

import pytest

from models import ApiToken, IdempotentRequest, Message, db

from .conftest import PREFIX, count, is_problem, issue, member, snapshot


@pytest.fixture
def post(api, conversation):
    """POST a message to the demo conversation with `key`; return the response."""
    def send(body, key, client=api):
        headers = {"Idempotency-Key": key} if key is not None else {}
        return client.post(f"/conversations/{conversation.id}/messages", json=body,
                           headers=headers)
    return send


@pytest.fixture
def agent(demo):
    return member("agent@demo.example")


def messages_of(conversation):
    return count(Message, conversation_id=conversation.id)


@pytest.mark.parametrize("internal", [False, True])
def test_the_same_post_twice_is_one_message(post, conversation, agent, internal):
    body = {"body": "Towels are on their way.", "staff_id": agent.id, "internal": internal}
    before = messages_of(conversation)
    first = post(body, "retry-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    after_first = snapshot(conversation.id)
    second = post(body, "retry-1")
    assert second.status_code == 201, second.get_data(as_text=True)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.mimetype == "application/json"
    assert second.get_json() == first.get_json()
    assert messages_of(conversation) == before + 1
    assert db.session.get(Message, first.get_json()["id"]).internal is internal
    # Nothing else moved either (status, times, assignee).
    assert snapshot(conversation.id) == after_first


def test_without_a_key_each_post_is_a_message(post, conversation, agent):
    body = {"body": "Hello", "staff_id": agent.id}
    before = messages_of(conversation)
    ids = {post(body, None).get_json()["id"] for _ in range(2)}
    assert len(ids) == 2 and messages_of(conversation) == before + 2


def test_different_keys_are_different_requests(post, conversation, agent):
    body = {"body": "Hello", "staff_id": agent.id}
    before = messages_of(conversation)
    assert post(body, "a").get_json()["id"] != post(body, "b").get_json()["id"]
    assert messages_of(conversation) == before + 2


def test_the_same_key_for_another_request_is_refused(api, demo, post, conversation, agent):
    from ..inbox.staff import conversation as new_conversation
    first = post({"body": "Towels are on their way.", "staff_id": agent.id}, "k-1")
    assert first.status_code == 201
    other = new_conversation(demo, "Another guest")
    before, after_first = count(Message), snapshot(conversation.id)
    for response in (post({"body": "Something else", "staff_id": agent.id}, "k-1"),
                     post({"body": "Towels are on their way.", "staff_id": agent.id,
                           "internal": True}, "k-1"),
                     api.post(f"/conversations/{other.id}/messages",
                              json={"body": "Towels are on their way.", "staff_id": agent.id},
                              headers={"Idempotency-Key": "k-1"})):
        assert is_problem(response, 422), response.get_data(as_text=True)
        assert "Idempotency-Key" in response.get_json()["errors"]
        assert "Idempotent-Replayed" not in response.headers
    assert count(Message) == before and snapshot(conversation.id) == after_first
    # The first answer is still what a true retry gets.
    again = post({"body": "Towels are on their way.", "staff_id": agent.id}, "k-1")
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"]


def test_an_error_answer_does_not_use_the_key(post, conversation, agent, other_brand):
    before = messages_of(conversation)
    for wrong in ({"body": "Hi", "staff_id": 999999},
                  {"body": "Hi", "staff_id": other_brand.staff_id},
                  {"body": "", "staff_id": agent.id},
                  {"body": "Hi", "staff_id": agent.id, "colour": "red"}):
        assert post(wrong, "fix-me").status_code == 422
    assert messages_of(conversation) == before
    assert count(IdempotentRequest) == 0
    fixed = post({"body": "Hi", "staff_id": agent.id}, "fix-me")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert messages_of(conversation) == before + 1
    replay = post({"body": "Hi", "staff_id": agent.id}, "fix-me")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == fixed.get_json()
    assert messages_of(conversation) == before + 1


def test_an_error_inside_the_operation_frees_the_key(app, post, conversation, agent,
                                                     monkeypatch):
    """A failure after the key was claimed (here the reply itself raising) gives the key
    back: the retry runs instead of being told the request is still in progress."""
    from app.inbox import service

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(service, "reply", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    body = {"body": "Hi", "staff_id": agent.id}
    before = messages_of(conversation)
    assert is_problem(post(body, "crash"), 500)
    assert count(IdempotentRequest) == 0
    monkeypatch.undo()
    response = post(body, "crash")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert messages_of(conversation) == before + 1


def test_keys_belong_to_their_token(api, demo, admin, post, conversation, agent):
    body = {"body": "Towels are on their way.", "staff_id": agent.id}
    first = post(body, "shared-key")
    other = api.as_token(issue(demo.id, admin.id, name="Second CRM"))
    second = post(body, "shared-key", client=other)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert second.get_json()["id"] != first.get_json()["id"]
    assert messages_of(conversation) == 3
    # Each token's retry gets its own first answer.
    assert post(body, "shared-key", client=other).get_json() == second.get_json()
    assert post(body, "shared-key").get_json() == first.get_json()
    assert messages_of(conversation) == 3


def test_a_copy_sent_while_the_first_runs_is_told_to_wait(client, token, conversation, agent):
    """The first copy's claim is committed before it runs: a second copy meanwhile gets 409,
    and runs nothing."""
    path = f"{PREFIX}/conversations/{conversation.id}/messages"
    raw = json.dumps({"body": "Hi", "staff_id": agent.id})
    fingerprint = hashlib.sha256(f"POST {path}\n{raw}".encode()).hexdigest()
    db.session.add(IdempotentRequest(token_id=ApiToken.active(token).id, key="busy",
                                     fingerprint=fingerprint))
    db.session.commit()
    before = messages_of(conversation)
    response = client.post(path, data=raw, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}",
                                    "Idempotency-Key": "busy"})
    assert is_problem(response, 409), response.get_data(as_text=True)
    assert messages_of(conversation) == before


def test_a_key_too_long_is_422(post, conversation, agent):
    from models.api import IDEMPOTENCY_KEY_MAX
    before = messages_of(conversation)
    response = post({"body": "Hi", "staff_id": agent.id}, "k" * (IDEMPOTENCY_KEY_MAX + 1))
    assert is_problem(response, 422) and "Idempotency-Key" in response.get_json()["errors"]
    assert messages_of(conversation) == before
    assert post({"body": "Hi", "staff_id": agent.id},
                "k" * IDEMPOTENCY_KEY_MAX).status_code == 201
