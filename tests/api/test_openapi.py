"""The OpenAPI document: public, valid OpenAPI 3.1, and it describes every route the API has,
with its token and its problem documents."""
import re

import pytest
from openapi_spec_validator import validate

from app.core.problems import MEDIA_TYPE

from .conftest import PREFIX

DOCUMENT = PREFIX + "/openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def document(client):
    response = client.get(DOCUMENT)  # no Authorization header
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(document, answer):
    while "$ref" in answer:
        assert answer["$ref"].startswith("#/components/responses/"), answer
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return answer


def test_the_document_is_public_and_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    validate(document)  # raises on any fault


def test_every_api_route_is_documented(app, document):
    documented = {(method, path) for method, path, _op in operations(document)}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/") or rule.rule == DOCUMENT:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes, "no API routes found"
    assert routes <= documented, routes - documented
    # Nor does the document promise an operation no route serves.
    assert documented <= routes, documented - routes


def test_every_operation_documents_its_token_and_problem_answers(document):
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer"}
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "status", "title"} <= set(problem["required"])
    for method, path, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert "401" in operation["responses"], where
        assert "429" in operation["responses"], where
        assert operation.get("security", document.get("security")) == [{"bearer": []}], where
        errors = {code: answer for code, answer in operation["responses"].items()
                  if code == "default" or int(code) >= 400}
        assert "default" in errors, where
        for code, answer in errors.items():
            content = resolve(document, answer).get("content", {})
            assert list(content) == [MEDIA_TYPE], (where, code, content)
            assert content[MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert len(successes) == 1, where


def test_the_writes_document_what_they_refuse(document):
    paths = document["paths"]
    message_post = paths[PREFIX + "/conversations/{conversation_id}/messages"]["post"]
    assert {"201", "403", "404", "409", "422"} <= set(message_post["responses"])
    assert [p["name"] for p in message_post["parameters"] if p["in"] == "header"] == \
        ["Idempotency-Key"]
    patch = paths[PREFIX + "/conversations/{conversation_id}"]["patch"]
    assert {"200", "403", "404", "422"} <= set(patch["responses"])
    listing = paths[PREFIX + "/conversations"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "status", "touchpoint_id", "category", "sentiment", "urgency", "assignee_id",
        "team_id", "updated_since", "cursor", "limit"}


def test_documented_problems_are_what_errors_answer(api, document, conversation):
    """The Problem schema's fields are what a real error carries."""
    problem = document["components"]["schemas"]["Problem"]
    answer = api.get("/conversations?limit=0").get_json()
    assert set(answer) <= set(problem["properties"])
    assert set(problem["required"]) <= set(answer)
