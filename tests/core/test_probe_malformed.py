"""Malformed input to every POST endpoint and page: a 4xx or a page, never a 500 or a traceback."""
# The walk reads app.url_map when it runs: an endpoint added later is walked too, and one whose
# URL takes an argument nobody can fill fails (tests/core/forms_walk.py).
import json
import re
import threading
from collections import Counter
from io import BytesIO

import pytest
import redis
from sqlalchemy import select

from app.demo import DEMO_SLUG
from models import (
    ApiToken,
    CannedReply,
    ContactVerification,
    Invitation,
    OneTimeLink,
    StaffMember,
    Webhook,
    db,
)
from tests.core.forms_walk import SIGNED_OUT, described, discover, row_ids, rules, urls
from tests.inbox.staff import Staff, conversation, form_values, soup

REDIS_URL = "redis://127.0.0.1:6379/15"
LONG = 50_000  # well under MAX_CONTENT_LENGTH (64 KB) with the rest of the form
HUGE = str(10**30)
HTMX = {"HX-Request": "true"}
FORM = "application/x-www-form-urlencoded"
NUL = "a\x00b"
# What goes into a field of each type, one field at a time, the others as the page gave them.
BY_KIND = {
    "number": ["abc", HUGE, "-1", "NaN"], "date": ["2026-13-45"], "time": ["25:61"],
    "select": ["no-such-choice", HUGE], "radio": ["no-such-choice", HUGE],
    "checkbox": ["no-such-choice", HUGE], "hidden": ["abc", HUGE], "color": ["#12345g"],
    "text": ["x" * LONG, NUL], "email": ["x" * LONG + "@x.example", NUL + "@x.example"],
    "url": ["http://" + "x" * LONG, "http://a\x00b.example/"],
}
# What goes into every field at once, per kind of mistake (None: long, shared out by the fields).
EVERY_FIELD = {"empty": "", "blank": " \t\r\n\x1b[2J\u202e\ufeff", "letters": "abc",
               "nul": NUL, "long": None, "multibyte": None}
# For a view no page shows a form of: every field any form has, each mistake at once.
STRAY = {"empty": "", "letters": "abc", "huge": HUGE, "negative": "-1", "date": "2026-13-45",
         "time": "25:61", "nul": NUL}
# Percent-encoded bytes no browser sends: not UTF-8, a lone surrogate, overlong, past U+10FFFF.
RAW = ("%FF%FE%C3%28", "%ED%A0%80x", "%C0%AF", "%F4%90%80%80")
BAD_QUERY = [{"after": "abc", "page": "-1", "view": "nobody", "status": "\x00", "r": "garbage",
              "next": "//evil.example/", "saved": "\x00", "conversation": "abc"},
             {"after": HUGE, "page": HUGE, "conversation": "-1", "queued": "1" * 5000,
              "lang": "zz-ZZ", "skipped": "", "next": "javascript:alert(1)"}]
RAW_QUERY = "after=%FF&page=%ED%A0%80&lang=%00&view=%C0%AF&next=%FF%FE&r=%00"
# Run last, in this order: what ends things (deleting, resolving), then signing out.
LAST = re.compile(r"/(delete|remove|revoke|deactivate|archive|retire|resolve|reopen|logout)$")


class Prober:
    """Sends requests; keeps each answer of 500 or more, exception raised and traceback logged."""
    # The test client passes a view's exception on where a server would answer 500.

    def __init__(self, caplog):
        self.caplog, self.failures, self.statuses, self.seen = caplog, [], Counter(), 0

    def send(self, client, method, url, what, **kwargs):
        try:
            answer = client.open(url, method=method, buffered=True, **kwargs)
        except Exception as error:  # noqa: BLE001 - each one is a finding, the walk goes on
            self.failures.append(f"{method} {url} {what[:200]}: 500, {described(error)}")
            self.statuses["raised"] += 1
            return None
        self.statuses[answer.status_code] += 1
        records = self.caplog.records[self.seen:]
        self.seen = len(self.caplog.records)
        # Logged by this thread, which ran the request: the outbox sweep has its own.
        logged = [r for r in records if r.thread == threading.get_ident() and (
            r.exc_info or "Traceback" in r.getMessage())]
        if answer.status_code >= 500 or logged:
            trace = described(logged[0].exc_info[1]) if logged and logged[0].exc_info \
                else " | ".join(r.getMessage()[:300] for r in logged)
            self.failures.append(f"{method} {url} {what[:200]}: {answer.status_code}, {trace}")
        return answer

    def assert_clean(self):
        print(f"{self.statuses.total()} requests: {dict(self.statuses)}")
        assert self.failures == [], f"{len(self.failures)} of {self.statuses.total()} " \
            "requests:\n" + "\n".join(self.failures[:60])


@pytest.fixture
def walk(app, demo, monkeypatch, caplog, http_receiver):
    """The demo with one of each thing, the admin and a signed-out browser, every URL argument."""
    # Jobs queue on a Redis of their own, never run; the admin's pager answers a test alert.
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    agent = db.session.scalar(select(StaffMember).filter_by(email="agent@demo.example"))
    convo = conversation(demo, text="Could I have more towels?")
    invitation = Invitation(brand_id=demo.id, email="invited@demo.example", role="agent")
    db.session.add_all([invitation, Webhook(brand_id=demo.id, url="https://crm.example/in",
                                            events=["conversation.created"]),
                        CannedReply(brand_id=demo.id, title="Hours", body="Open 24 hours."),
                        ApiToken.issue(demo.id, "CRM", True)[0]])
    values = {"inbox.accept_invitation:token": invitation.renew(),
              "inbox.set_password:token": OneTimeLink.issue(agent, "set_password")[1],
              "vtoken": ContactVerification.issue(convo, "email", "guest@example.com")[1]}
    db.session.commit()
    admin = Staff(app, "admin@demo.example")
    admin.client.post("/inbox/alerts", data={"csrf_token": admin.token, "label": "Pager",
                                             "url": f"json://127.0.0.1:{http_receiver.port}/"})
    signed_out = app.test_client()
    login = form_values(soup(signed_out.get("/inbox/login")).select_one("form"))
    values |= row_ids(demo.id, admin.member.id) | {
        "brand_slug": DEMO_SLUG, "tp_slug": demo.touchpoints[0].slug, "token": convo.token,
        "fmt": "svg", "filename": "kulak.css", "name": "htmx.min.js"}
    yield dict(admin=admin, signed_out=signed_out, customer=app.test_client(), values=values,
               signed_out_token=login["csrf_token"], prober=Prober(caplog))
    connection.flushdb()


def who(walk, rule):
    """The client that uses `rule`, and the CSRF token its forms carry (None for customers)."""
    if rule.endpoint in SIGNED_OUT:
        return walk["signed_out"], walk["signed_out_token"]
    if rule.rule.startswith(("/admin", "/inbox")):
        return walk["admin"].client, walk["admin"].token
    return walk["customer"], None


def post_rules(app):
    """Every POST rule, what ends things last and signing out at the very end."""
    return sorted(rules(app, "POST"), key=lambda r: (
        r.endpoint == "inbox.logout", bool(LAST.search(r.rule)) or "<any(" in r.rule, r.rule))


def known_forms(app, walk):
    """Every page's forms by the rule they post to, their field names, and links' query names."""
    adapter, found, names, queries = app.url_map.bind("kulak.test"), {}, set(), set()
    for rule in rules(app, "GET", pages=True):
        client, _ = who(walk, rule)
        forms, linked = discover(client, urls(rule, walk["values"]), adapter)
        queries |= linked
        for key, form in forms.items():
            found.setdefault(key, form)
    for form in found.values():
        names |= set(form.values) - {"csrf_token"}
    return found, sorted(names), sorted(queries)


def with_token(data, token):
    return data | {"csrf_token": token} if token else data


def every_field(names):
    """(what, value) of each mistake made in every field at once."""
    for what, value in EVERY_FIELD.items():
        share = LONG // len(names)
        if value is None:  # "ğ" is 6 bytes in the body (%C4%9F)
            value = "x" * share if what == "long" else "ğ" * (share // 6)
        yield what, value


def test_every_post_endpoint_takes_malformed_fields_without_a_500(app, walk):
    forms, every_name, _ = known_forms(app, walk)
    prober, walked = walk["prober"], set()
    for rule in post_rules(app):
        if rule.endpoint == "inbox.logout":  # last: what came before reached signed-in views
            assert walk["admin"].get("/admin/").status_code == 200, "signed out before the end"
        client, token = who(walk, rule)
        form = forms.get(rule.rule)
        base = {k: v for k, v in (form.values if form else {}).items() if k != "csrf_token"}
        # A button's form sends no field: stray ones, in case the view reads one anyway.
        names = list(base) or every_name
        mistakes = list(every_field(names)) if base else list(STRAY.items()) if not form \
            else [("letters", "abc")]
        # Another URL of a view walked already (/embed/... and /b/...) gets the mistakes made
        # in every field at once; the first gets each field's too.
        fields = form.kinds.items() if form and rule.endpoint not in walked else ()
        for url in urls(rule, walk["values"]):
            walked.add(rule.endpoint)
            prober.send(client, "POST", url, "no field", data=with_token({}, token))
            for what, value in mistakes:
                prober.send(client, "POST", url, f"every field {what}",
                            data=with_token({n: value for n in names}, token))
            # Each field twice (the token too), as a form with a field repeated sends it.
            repeated = {n: [base.get(n, "abc"), "abc"] for n in names}
            prober.send(client, "POST", url, "every field twice", data=with_token(
                repeated, token) | ({"csrf_token": [token, token]} if token else {}))
            for name, kind in fields:
                for value in BY_KIND.get(kind, BY_KIND["text"]) if name != "csrf_token" else ():
                    # As htmx sends it: the answer is the form alone, where there is one.
                    prober.send(client, "POST", url, f"{name}={value[:40]!r} (htmx)",
                                data=with_token(base | {name: value}, token), headers=HTMX)
    prober.assert_clean()
    assert walked == {r.endpoint for r in rules(app, "POST")}


def test_every_post_endpoint_takes_undecodable_bodies_without_a_500(app, walk):
    _forms, every_name, _ = known_forms(app, walk)
    prober = walk["prober"]
    for rule in post_rules(app):
        client, token = who(walk, rule)
        prefix = f"csrf_token={token}&" if token else ""
        for url in urls(rule, walk["values"]):
            # Bytes that are not UTF-8, a lone surrogate, an overlong and a too-high one.
            body = prefix + "&".join(f"{name}={RAW[i % len(RAW)]}"
                                     for i, name in enumerate(every_name))
            prober.send(client, "POST", f"{url}?{RAW_QUERY}", "undecodable fields",
                        data=body.encode(), content_type=FORM)
            prober.send(client, "POST", url, "raw bytes", content_type=FORM, data=prefix.encode()
                        + b"body=\xff\xfe\x00&\xc3=\x28&=&&%%%")
            # What Flask-WTF reads as the form too: a JSON body, and files for fields.
            prober.send(client, "POST", url, "a JSON body", content_type="application/json",
                        data=json.dumps(with_token({n: [1, {"a": None}] for n in every_name},
                                                   token)))
            prober.send(client, "POST", url, "files for fields", data=with_token(
                {name: (BytesIO(b"\xff\x00"), "x.bin") for name in every_name}, token),
                content_type="multipart/form-data")
            prober.send(client, "POST", url, "a broken multipart body", data=b"--x\r\nbroken",
                        content_type="multipart/form-data; boundary=x")
    prober.assert_clean()


def test_every_page_takes_bad_query_strings_without_a_500(app, walk):
    # The names the views read, and any a page links with (a new filter, a new page number).
    _forms, _names, linked = known_forms(app, walk)
    prober, walked = walk["prober"], set()
    for rule in rules(app, "GET"):
        client, _ = who(walk, rule)
        for url in urls(rule, walk["values"]):
            walked.add(rule.endpoint)
            for query in BAD_QUERY + [dict.fromkeys(linked, value) for value in ("abc", HUGE)]:
                prober.send(client, "GET", url, f"?{query}", query_string=query)
            prober.send(client, "GET", f"{url}?{RAW_QUERY}", "undecodable query", headers=HTMX)
    prober.assert_clean()
    assert walked == {r.endpoint for r in rules(app, "GET")}
