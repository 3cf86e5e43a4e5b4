"""The API fuzzed from its own OpenAPI document against a real `kulak serve` (schemathesis 4).

Every operation, reads and writes, with a read-write token, on a demo brand that has
conversations: no 5xx, every status, content type and body as documented, schema-invalid
input refused, and schema-valid input accepted unless a record of the brand says otherwise."""
import subprocess
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from app.server import REQUEST_LINE_MAX

from ..conftest import BACKENDS, kulak_command, start_server

pytestmark = pytest.mark.server
PREFIX = "/api/v1"
EXAMPLES = 25

# A request of the documented shape that the API still refuses, and why it may: the value
# names no record of this brand (an id, a slug, a cursor it never gave out, a key used for
# another request), or breaks a rule between fields that a JSON Schema cannot state (a custom
# report period). (status, field) -> the start of each message the app gives for it.
RECORD_REFUSALS = {
    (400, "cursor"): ("not a cursor this API gave out", "belongs to another query"),
    (422, "staff_id"): ("no active member of staff of this brand has this id",
                        "not at this place"),
    (422, "assignee_id"): ("no active member of staff at this conversation's place",),
    (422, "team_id"): ("this brand has no team with this id",),
    (422, "category"): ("one of ", "This is not one of the choices"),
    (422, "Idempotency-Key"): ("used before for a different request",),
    # /reports filters (ids of the brand's places, teams and staff) and its custom range.
    **{(422, name): ("This is not one of the choices",) for name in ("touchpoint", "team",
                                                                      "agent")},
    (422, "end"): ("Please give both dates", "Please choose dates between",
                   "The end date is before", "Please choose at most"),
}
ACCEPTED = {401, 403, 404, 409, 429}  # the token, the rights, the record, a retry, the rate


def schema_valid_request_accepted(ctx, response, case):
    """schemathesis' positive_data_acceptance, told which refusals the records explain.

    It expects a request its generator made valid to be answered 2xx (or 401, 403, 404,
    409, 429), and so fails on every 422 that means "no member of staff of this brand has
    id 1424": the document can say "an integer", never "an id of this brand's staff". Any
    other refusal of a schema-valid request still fails here, with its field and message."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status < 400 or status in ACCEPTED or status >= 500:  # 5xx: not_a_server_error's
        return None
    try:
        errors = response.json().get("errors") or {}
    except ValueError:
        errors = {}
    errors = {f: t for f, t in errors.items() if t != "Not a valid integer."}
    if not errors:
        return None
    unexplained = {field: text for field, text in errors.items()
                   if not str(text).startswith(RECORD_REFUSALS.get((status, field), ()) or
                                               ("\0",))}
    assert errors and not unexplained, (
        f"a schema-valid request was refused with {status}: "
        f"{unexplained or response.text[:300]}")
    return True


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_server(request, tmp_path_factory, postgres_schema, htmx_installed):
    """A server of its own: the fuzzer resolves, assigns, moves and replies at random, which
    the tests sharing the session's live_server must be spared."""
    server = start_server(request.param, tmp_path_factory.mktemp(f"fuzz-{request.param}"),
                          postgres_schema)
    yield server
    server.stop()


def create_token(server, *options):
    """Create a token of the demo brand with the CLI; return its plain form (the last line)."""
    done = subprocess.run(kulak_command("token", "create", "demo", "Fuzz", *options),
                          env=server.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def open_conversation(server, body, place="room-412"):
    """Open a conversation as a customer without JavaScript does (the survey is optional)."""
    answer = requests.post(f"{server.url}/b/demo/{place}/help",
                           data={"body": body, "lang": "en"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text[:300]


def records(server, auth):
    """The ids and slugs of the demo brand, for the fuzzer to aim at real records too."""
    def get(path):
        answer = requests.get(f"{server.url}{PREFIX}{path}", headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        return answer.json()

    found = {"conversation_id": [c["id"] for c in get("/conversations")["items"]],
             "staff_id": [s["id"] for s in get("/staff") if s["active"]],
             "team_id": [t["id"] for t in get("/teams")],
             "category": [c["slug"] for c in get("/categories") if c["active"]]}
    found["assignee_id"] = found["staff_id"]
    assert all(found.values()), found
    return found


def aim_at_records(schema, known):
    """Let each generated id or slug be, more often than not, one of the brand's real ones
    (and a PATCH name who makes it): else almost every write would stop at 404 or 422 and
    never run. Only in a part (path, body) generated valid: in an invalid one the value
    replaced may be the very one that made it invalid."""
    def pick(values):  # None: keep what was generated
        return st.sampled_from([*values, None])

    @schema.hook("flatmap_case")
    def flatmap_case(context, case):
        def valid(location):
            found = case.meta.components.get(location) if case.meta is not None else None
            return found is not None and found.mode.is_positive

        path = case.path_parameters if valid(ParameterLocation.PATH) else {}
        body = case.body if valid(ParameterLocation.BODY) and isinstance(case.body, dict) \
            else {}
        fields = [n for n in body if n in known]
        if case.method == "PATCH" and valid(ParameterLocation.BODY) and "staff_id" not in body:
            fields.append("staff_id")  # optional; the CLI's token has no creator to fall back on
        choices = {"path_parameters": st.fixed_dictionaries(
                       {n: pick(known[n]) for n in path or () if n in known}),
                   "body": st.fixed_dictionaries({n: pick(known[n]) for n in fields})}

        def apply(picks):
            for where, values in picks.items():
                for name, value in values.items():
                    if value is not None:
                        getattr(case, where)[name] = value
            return case
        return st.fixed_dictionaries(choices).map(apply)


def within_request_line(schema):
    """Leave out requests whose first line is longer than gunicorn accepts: gunicorn answers
    them 414 with its own page before the app sees them (as any proxy in front would)."""
    @schema.hook("filter_case")
    def filter_case(context, case):
        sent = case.as_transport_kwargs(base_url="http://127.0.0.1")
        prepared = requests.Request(sent["method"], sent["url"],
                                    params=sent.get("params")).prepare()
        return len(f"{prepared.method} {prepared.path_url} HTTP/1.1") <= REQUEST_LINE_MAX


STATUSES = Counter()


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    for text, place in (("The shower is cold", "room-412"), ("More towels, please", "room-412"),
                        ("Late checkout please", "room-412")):
        open_conversation(fuzz_server, text, place)
    plain = create_token(fuzz_server)
    auth = {"Authorization": f"Bearer {plain}"}
    schema = schemathesis.openapi.from_url(
        fuzz_server.url + PREFIX + "/openapi.json",
        config=schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": plain}}}}))
    aim_at_records(schema, records(fuzz_server, auth))
    within_request_line(schema)
    STATUSES.clear()
    yield schema
    # Aimed at real records, the fuzzer's writes must have gone through at least once each:
    # else "no 5xx" would only have been proven for the refusals.
    done = {(method, status) for (method, _path, status) in STATUSES}
    assert {("PATCH", 200), ("POST", 201)} <= done, sorted(STATUSES.items())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_answers_as_its_document_says(case):
    response = case.call_and_validate(
        timeout=30, excluded_checks=[positive_data_acceptance, unsupported_method],
        additional_checks=[schema_valid_request_accepted])
    STATUSES[(case.method, case.operation.path, response.status_code)] += 1
