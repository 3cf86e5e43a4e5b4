"""Who may call (401, 403) and what is refused (400, 413, 422): each a problem document that
says why, and nothing stored."""
import json

import pytest

from models import ApiToken, Message, db
from models.common import MESSAGE_MAX

from .conftest import PREFIX, count, is_problem, issue, member, snapshot


@pytest.fixture
def messages(conversation):
    """Assert that no message was stored by the test."""
    before = count(Message)
    yield
    assert count(Message) == before


@pytest.fixture
def path(conversation):
    return f"/conversations/{conversation.id}"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer  ", "Basic dXNlcjpwdw==",
                                           "Token {token}", "{token}", "Bearer kulak_unknown",
                                           "Bearer {token}x", "Bearer " + "k" * 5000])
def test_without_a_valid_token_it_is_401(client, token, path, messages, authorization):
    headers = {} if authorization is None else {
        "Authorization": authorization.format(token=token)}
    for method, kwargs in (("GET", {}), ("GET", {"path": "/messages"}),
                           ("POST", {"path": "/messages", "json": {"body": "Hi",
                                                                   "staff_id": 1}}),
                           ("PATCH", {"json": {"status": "resolved"}})):
        response = client.open(PREFIX + path + kwargs.pop("path", ""), method=method,
                               headers=headers, **kwargs)
        assert is_problem(response, 401), (method, response.get_data(as_text=True))
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for listed in ("/conversations", "/staff", "/teams", "/touchpoints", "/categories",
                   "/reports"):
        assert is_problem(client.get(PREFIX + listed, headers=headers), 401), listed


def test_the_scheme_is_read_whatever_its_case(client, token, path):
    assert client.get(PREFIX + path, headers={"Authorization": f"bearer {token}"}) \
        .status_code == 200


def test_a_revoked_token_is_refused_at_once(api, path, messages):
    assert api.get(path).status_code == 200
    token = ApiToken.active(api.plain)
    token.revoke()
    db.session.commit()
    response = api.get(path)
    assert is_problem(response, 401) and "WWW-Authenticate" in response.headers
    assert is_problem(api.patch(path, json={"status": "resolved"}), 401)


def test_a_read_only_token_reads_but_does_not_write(api, read_only_token, conversation, path,
                                                    messages):
    reader = api.as_token(read_only_token)
    assert reader.get(path).status_code == 200
    assert reader.get(path + "/messages").status_code == 200
    before = snapshot(conversation.id)
    agent = member("agent@demo.example")
    for response in (reader.post(path + "/messages", json={"body": "Hi", "staff_id": agent.id}),
                     reader.post(path + "/messages", json={"body": "Note", "internal": True,
                                                           "staff_id": agent.id}),
                     reader.patch(path, json={"status": "resolved"}),
                     reader.patch(path, json={"assignee_id": agent.id}),
                     reader.patch(path, json={"sentiment": "negative"})):
        assert is_problem(response, 403), response.get_data(as_text=True)
        assert "read-only" in response.get_json()["detail"]
    assert snapshot(conversation.id) == before
    # The same writes with the read-write token work: the 403 was the token's.
    assert api.patch(path, json={"sentiment": "negative"}).status_code == 200


@pytest.mark.parametrize("raw", ["{not json", '{"body": "Hi", ', "\xff\xfe", "[1, 2"])
def test_a_body_that_is_not_json_is_400(api, path, messages, raw):
    for method, where in (("POST", "/messages"), ("PATCH", "")):
        response = api.call(method, path + where, data=raw.encode("latin-1"),
                            content_type="application/json")
        assert is_problem(response, 400), \
            (method, raw, response.status_code, response.get_data(as_text=True))


def test_malformed_json_is_a_400_problem(api, path, messages):
    response = api.post(path + "/messages", data='{"body": "Hi"',
                        content_type="application/json")
    assert is_problem(response, 400), response.get_data(as_text=True)


@pytest.mark.parametrize("body, field", [
    ({"body": 42, "staff_id": "{agent}"}, "body"),
    ({"body": "Hi", "staff_id": "{agent_text}"}, "staff_id"),
    ({"body": "Hi", "staff_id": 1.5}, "staff_id"),
    ({"body": "Hi", "staff_id": True}, "staff_id"),
    ({"body": ["Hi"], "staff_id": "{agent}"}, "body"),
    ({"body": "Hi", "staff_id": "{agent}", "internal": "maybe"}, "internal"),
    ({"staff_id": "{agent}"}, "body"),
    ({"body": "Hi"}, "staff_id"),
    ({"body": "", "staff_id": "{agent}"}, "body"),
    ({"body": "x" * (MESSAGE_MAX + 1), "staff_id": "{agent}"}, "body"),
    ({"body": "Hi", "staff_id": "{agent}", "bodyy": "typo"}, "bodyy"),
    ({"body": "Hi", "staff_id": 0}, "staff_id"),
    ({"body": "Hi", "staff_id": 2 ** 70}, "staff_id"),
    ({"body": "Hi", "staff_id": 999999}, "staff_id"),
])
def test_a_wrong_message_is_422_naming_the_field(api, path, messages, body, field):
    agent = member("agent@demo.example")
    names = {"{agent}": agent.id, "{agent_text}": str(agent.id)}
    body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api.post(path + "/messages", json=body)
    assert is_problem(response, 422), response.get_data(as_text=True)
    assert field in response.get_json()["errors"], response.get_json()
    assert field in response.get_json()["detail"]


def test_a_message_of_the_longest_length_is_taken(api, path):
    agent = member("agent@demo.example")
    response = api.post(path + "/messages", json={"body": "x" * MESSAGE_MAX,
                                                  "staff_id": agent.id})
    assert response.status_code == 201
    assert len(db.session.get(Message, response.get_json()["id"]).body) == MESSAGE_MAX


def test_a_body_that_is_not_an_object_is_422(api, path, messages):
    for body in (42, "Hi", ["Hi"], None):
        response = api.post(path + "/messages", json=body)
        assert is_problem(response, 422), \
            (body, response.status_code, response.get_data(as_text=True))


@pytest.mark.parametrize("changes, field", [
    ({"status": "closed"}, "status"), ({"status": "pending"}, "status"),
    ({"assignee_id": "1"}, "assignee_id"), ({"team_id": -1}, "team_id"),
    ({"sentiment": "angry"}, "sentiment"), ({"urgency": 1}, "urgency"),
    ({"category": ""}, "category"), ({"intent": "gossip"}, "intent"),
    ({"tags": {"sentiment": "negative"}}, "tags"), ({"staff_id": "me"}, "staff_id"),
])
def test_a_wrong_change_is_422_naming_the_field(api, conversation, path, messages, changes,
                                                field):
    before = snapshot(conversation.id)
    response = api.patch(path, json=changes)
    assert is_problem(response, 422), response.get_data(as_text=True)
    assert field in response.get_json()["errors"]
    assert snapshot(conversation.id) == before


def test_a_body_over_the_size_limit_is_413(app, api, path, messages):
    limit = app.config["MAX_CONTENT_LENGTH"]
    agent = member("agent@demo.example")
    payload = json.dumps({"body": "x" * limit, "staff_id": agent.id})
    response = api.post(path + "/messages", data=payload, content_type="application/json")
    assert is_problem(response, 413), response.get_data(as_text=True)


@pytest.mark.parametrize("query", [{"limit": 1000}, {"limit": 0}, {"limit": "many"},
                                   {"status": "closed"}, {"sentiment": "angry"},
                                   {"touchpoint_id": "room"}, {"updated_since": "yesterday"},
                                   {"colour": "red"}])
def test_wrong_list_parameters_are_422(api, conversation, query):
    response = api.get("/conversations", query_string=query)
    assert is_problem(response, 422), response.get_data(as_text=True)
    assert set(query) <= set(response.get_json()["errors"])


def test_wrong_message_list_parameters_are_422(api, path):
    for query in ({"limit": 1000}, {"include_notes": "perhaps"}, {"after": 3}):
        response = api.get(path + "/messages", query_string=query)
        assert is_problem(response, 422), response.get_data(as_text=True)
        assert set(query) <= set(response.get_json()["errors"])


def cursor_of(api, path, **query):
    response = api.get(path, query_string={"limit": 1, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()["next_cursor"]
    assert found
    return found


@pytest.fixture
def two(demo, conversation):
    from ..inbox.staff import conversation as new_conversation
    return conversation, new_conversation(demo, "Second", sentiment="negative")


def test_a_cursor_of_another_query_is_400(api, admin, two):
    from app.inbox import service
    cursor = cursor_of(api, "/conversations")
    # The control: the cursor is good for its own query, at another page size too.
    assert api.get("/conversations", query_string={"cursor": cursor}).status_code == 200
    for other in ({"status": "open"}, {"sentiment": "negative"},
                  {"updated_since": "2020-01-01T00:00:00Z"}):
        response = api.get("/conversations", query_string={"cursor": cursor, **other})
        assert is_problem(response, 400), (other, response.get_data(as_text=True))
        assert "cursor" in response.get_json()["errors"]
    first, second = two
    for convo in two:
        service.add_note(convo, admin, "A note")
    cursor = cursor_of(api, f"/conversations/{first.id}/messages", include_notes="true")
    assert api.get(f"/conversations/{first.id}/messages", query_string={
        "cursor": cursor, "include_notes": "true"}).status_code == 200
    for other_path, query in ((f"/conversations/{second.id}/messages", {"include_notes": "true"}),
                              (f"/conversations/{first.id}/messages", {}),
                              ("/conversations", {})):
        response = api.get(other_path, query_string={"cursor": cursor, **query})
        assert is_problem(response, 400), (other_path, response.get_data(as_text=True))


@pytest.mark.parametrize("cursor", ["garbage", "eyJhZnRlciI6IDF9", "a" * 400,
                                    "{tampered}"])
def test_a_cursor_the_api_did_not_give_is_400(api, two, cursor):
    if cursor == "{tampered}":
        good = cursor_of(api, "/conversations")
        cursor = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    response = api.get("/conversations", query_string={"cursor": cursor})
    assert is_problem(response, 400), response.get_data(as_text=True)
    assert "cursor" in response.get_json()["errors"]


def test_a_cursor_of_another_app_is_400(app, api, two):
    cursor = cursor_of(api, "/conversations")
    key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = key + "-rotated"
    try:
        response = api.get("/conversations", query_string={"cursor": cursor})
    finally:
        app.config["SECRET_KEY"] = key
    assert is_problem(response, 400)


def test_unknown_addresses_and_methods_are_problems(api, path, messages):
    assert is_problem(api.get("/nothing-here"), 404)
    assert is_problem(api.call("DELETE", path), 405)
    assert is_problem(api.call("PUT", path + "/messages", json={}), 405)


@pytest.fixture
def rate_limited(monkeypatch, request):
    """The `limited` app (rate limits on) with a budget of 3 calls a minute per token."""
    from app.extensions import limiter
    # The limiter is one object shared by every app in this process: put it back afterwards.
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = request.getfixturevalue("limited")
    monkeypatch.setitem(limited.config, "API_RATE_LIMIT", "3/minute")
    return limited


def test_each_token_has_its_own_rate_limit(rate_limited):
    from models import Brand
    demo = db.session.scalar(db.select(Brand).filter_by(slug="demo"))
    admin = member("admin@demo.example")
    first, second = issue(demo.id, admin.id), issue(demo.id, admin.id, read_only=True)
    client = rate_limited.test_client()

    def call(plain, path="/staff"):
        return client.get(PREFIX + path, headers={"Authorization": f"Bearer {plain}"})

    assert [call(first).status_code for _ in range(3)] == [200] * 3
    refused = call(first, "/teams")  # the budget is the token's, whatever it asks for
    assert is_problem(refused, 429), refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # Another token of the same brand, from the same address, is not held up.
    assert call(second).status_code == 200
    assert [call(second).status_code for _ in range(2)] == [200] * 2
    assert is_problem(call(second), 429)
