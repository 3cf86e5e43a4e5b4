"""Markup typed into any text field of any staff or customer form is only ever shown as text."""
# The walk reads app.url_map and each page's forms when it runs: a page or a field added later
# takes the corpus too, and a URL argument nobody can fill fails (tests/core/forms_walk.py).
import itertools
import re
import secrets
from collections import deque

import pytest
import redis
from markupsafe import escape
from sqlalchemy import select

from app.demo import DEMO_SLUG
from models import (
    AlertTarget,
    ApiToken,
    CannedReply,
    Conversation,
    Invitation,
    OneTimeLink,
    Question,
    StaffMember,
    Survey,
    Touchpoint,
    Webhook,
    db,
)
from tests.core.forms_walk import (
    MARKER,
    NOT_PAGES,
    SIGNED_OUT,
    described,
    forms,
    links,
    markup_problems,
    parse,
    row_ids,
    rules,
    shown,
    urls,
)
from tests.core.test_errors import tracebacks
from tests.inbox.staff import Staff

# {t} is the marker that tells which field a payload was typed into.
PAYLOADS = (
    "<script>alert('{t}')</script>",
    "<img src=x onerror=alert('{t}')>",
    "<svg onload=alert('{t}')><circle r=9 /></svg>",
    "javascript:alert('{t}')",
    "\"><script>alert('{t}')</script>",
    "'><img src=x onerror=alert('{t}')>\" autofocus onfocus=\"alert('{t}')\" x=\"",
    "{{{{7*191}}}}{t} {{% print 7*191 %}} ${{7*191}}",
    "\" hx-get=\"/inbox/logout?{t}\" hx-trigger=\"load\" x=\"",
    "<div hx-post=\"/inbox/logout?{t}\" hx-trigger=\"load\">{t}</div>",
    "<a href=\" javascript:alert('{t}')\">{t}</a><math><mi xlink:href=\"javascript:{t}\">",
    "\uff1cscript\uff1e{t}\uff1c/script\uff1e \u202e<b>{t}</b>\u202c <scr\u200bipt>",
    "</textarea></title><scr<script>ipt>alert('{t}')</scr</script>ipt>",
    "&lt;script&gt;{t} <base href=\"//evil.example/{t}/\"><iframe srcdoc=\"{t}\">",
)
# Shaped to pass an email (or contact) check, a URL check, or a one-line one, to be stored.
SHAPED = (
    "<img/src=x/onerror=alert('{t}')>@pwn.example",
    "https://pwn.example/{t}?q=\"><svg/onload=alert(1)>",
    "{t}<b>bold</b>",
)
# What a person types in a field the payload is not in, so that the form is accepted.
# By the field's name (an alert target's address is a text field), else by its type.
PLAIN = {"url": "json://127.0.0.1:9/probe", "contact": "", "emails": "probe@example.com",
         "slug": "", "embed_origins": "", "sms_url": "", "type:email": "probe@example.com",
         "type:url": "https://probe.example/in"}
HTMX = {"HX-Request": "true"}
ANY_CASE = re.compile(MARKER.pattern, re.IGNORECASE)  # an email address is lower-cased
REDIS_URL = "redis://127.0.0.1:6379/14"
# Fields whose payload must be stored and shown back (on some page) for the test to mean much.
# Besides a survey's text question (its field, q<id>, is named by the id the database gave).
MUST_SHOW = {("/b/<brand_slug>/<tp_slug>/help", "body"),
             ("/b/<brand_slug>/<tp_slug>/help", "name"), ("/c/<token>", "body"),
             ("/inbox/c/<int:conversation_id>/reply", "body"), ("/admin/teams", "name"),
             ("/inbox/c/<int:conversation_id>/note", "note"), ("/admin/canned", "body"),
             ("/admin/brand", "name"), ("/inbox/profile", "name")}


class Corpus:
    """Hands out payloads, each with a marker of its own, and remembers where each went."""

    def __init__(self):
        self.typed, self.counter = {}, itertools.count(1)

    def make(self, template, where):
        marker = f"Pwn{next(self.counter):04d}"
        self.typed[marker] = (template.format(t=marker), where)
        return self.typed[marker][0]

    def markup(self):
        return [raw for raw, _ in self.typed.values() if set(raw) & set('<>"')]

    def fields(self, text):
        """The fields (rule and name) the payloads named in `text` were typed into."""
        return sorted({" ".join(self.typed[m.capitalize()][1]) for m in ANY_CASE.findall(text)
                       if m.capitalize() in self.typed})


def variants(form, corpus, where):
    """The payloads in every text field at once; then in each alone, the rest plain, twice."""
    # Sent twice: a second send may answer "that name is taken", with the name in it.
    names = [name for name, _ in form.text]
    # Two payloads a field a round: each field meets every payload.
    for round_ in range(0, len(PAYLOADS), 2):
        yield {name: corpus.make(" ".join(PAYLOADS[(round_ + i + j) % len(PAYLOADS)]
                                          for j in (0, 1)), (where, name))
               for i, name in enumerate(names)}, bool(round_ % 4), round_ == 0
    for name, kind in form.text:
        plain = {other: PLAIN.get(other, PLAIN.get(f"type:{k}", "Probe"))
                 for other, k in form.text if other != name and not form.values.get(other)}
        shaped = SHAPED[0] if kind == "email" or name in ("contact", "email", "emails") else \
            SHAPED[1] if kind == "url" or name == "url" else SHAPED[2]
        yield plain | {name: corpus.make(shaped, (where, name))}, False, True
        payload = PAYLOADS[len(corpus.typed) % len(PAYLOADS)]  # a form to the next, another
        typed = plain | {name: corpus.make(payload, (where, name))}
        yield typed, False, True
        yield typed, True, True


class Walk:
    """Answers checked, forms submitted, payloads shown back, and every problem, with where."""

    def __init__(self, app, corpus):
        self.app, self.corpus, self.problems, self.answers = app, corpus, {}, 0
        self.submitted, self.fields, self.stored, self.recording = set(), set(), set(), False
        self.adapter = app.url_map.bind("kulak.test")

    def rule(self, url, method="GET"):
        """The rule `url` matches (None for none), and its query but the language."""
        path, _, query = url.partition("#")[0].partition("?")
        try:
            rule, _ = self.adapter.match(path, method=method, return_rule=True)
        except Exception:  # noqa: BLE001 - another site's address, or no page
            return None, ()
        return rule, tuple(sorted(p for p in query.split("&") if p and not p.startswith("lang=")))

    def flag(self, method, url, problem, detail=""):
        """Keep, for each field (or page), the kinds of problem and the first one in full."""
        fields = self.corpus.fields(problem) or self.corpus.fields(detail)
        rule, _ = self.rule(url, method)
        key = ", ".join(fields) or (rule.rule if rule else url)
        kinds, example = self.problems.setdefault(key, (set(), f"{problem}; e.g. {method} {url} "
                                                              f"{detail[:300]}"))
        kinds.add(re.split(r"[:<'\"]", problem)[0].strip())

    def fetch(self, client, method, url, detail="", **kwargs):
        """Send a request; a view's exception (a 500 from a server) is a problem too."""
        try:
            # buffered: a streamed answer (the CSV export) is read inside its request.
            return client.open(url, method=method, buffered=True, **kwargs)
        except Exception as error:  # noqa: BLE001 - each one is a finding, the walk goes on
            self.flag(method, url, f"answered 500: {described(error)}", detail)
            return None

    def check(self, response, method, url, detail="", stored=False):
        """Look for a 500 and payload markup; note payloads shown back if `stored`; parse."""
        if response is None:
            return None
        self.answers += 1
        if response.status_code >= 500:
            self.flag(method, url, f"answered {response.status_code}", detail)
        if response.mimetype not in ("text/html", "image/svg+xml", "text/css", "text/plain"):
            return None
        page = parse(response.text)
        for problem in markup_problems(page, response.text, self.corpus.markup()):
            self.flag(method, url, problem, detail)
        if stored or self.recording:
            text = shown(page)
            self.stored |= {m for m in set(MARKER.findall(text))
                            if m in self.corpus.typed and self.corpus.typed[m][0] in text}
        return page if response.mimetype == "text/html" else None

    def submit(self, client, page_url, page):
        """Type the corpus into each form of a page not typed into yet; return where it led."""
        led = []
        for form in forms(page, page_url):
            rule, _ = self.rule(form.action, "POST")
            key = (rule.rule if rule else form.action, tuple(sorted(form.values)))
            if form.method != "POST" or not form.text or key in self.submitted:
                continue
            self.submitted.add(key)
            self.fields.update((key[0], name) for name, _ in form.text)
            for typed, htmx, follow in variants(form, self.corpus, key[0]):
                data = {**form.values, **typed}
                if "client_id" in data:  # each send is a new message, not a retry
                    data["client_id"] = secrets.token_hex(8)
                detail = "(htmx) " * htmx + repr(typed)
                answer = self.fetch(client, "POST", form.action, detail, data=data,
                                    headers=HTMX if htmx else {})
                self.check(answer, "POST", form.action, detail)
                if answer is None or answer.status_code not in (302, 303):
                    continue
                led.append(answer.location)
                if follow:  # as a browser does: the flash says what was saved, the page shows it
                    after = f"after POST {form.action} {typed!r}"
                    self.check(self.fetch(client, "GET", answer.location, after), "GET",
                               answer.location, after, stored=True)
        return led

    def crawl(self, client, start, submit=True, follow=False):
        """Check each page and fragment (once per rule and query); type; go where it leads."""
        queue, seen, done = deque(start), set(), set()
        while queue:
            url = queue.popleft()
            rule, query = self.rule(url)
            if url in seen or rule is None or rule.endpoint.startswith(NOT_PAGES) or (
                    url not in start and (rule.rule, query) in done):
                continue
            seen.add(url)
            done.add((rule.rule, query))
            answer = self.fetch(client, "GET", url)
            page = self.check(answer, "GET", url)
            if answer is not None and "HX-Request" in answer.vary:  # a fragment of its own
                self.check(self.fetch(client, "GET", url, headers=HTMX), "GET", url, "(htmx)")
            if page is None:
                continue
            if submit:
                queue.extend(self.submit(client, url, page))
            if follow:
                queue.extend(links(page, url))


@pytest.fixture
def staged(app, demo, monkeypatch):
    """The demo with one of everything a form acts on; jobs queue on a Redis of their own."""
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    admin = db.session.scalar(select(StaffMember).filter_by(email="admin@demo.example"))
    agent = db.session.scalar(select(StaffMember).filter_by(email="agent@demo.example"))
    invitation = Invitation(brand_id=demo.id, email="invited@demo.example", role="agent")
    survey = Survey.for_touchpoint(demo)
    survey.questions.append(Question(position=9, kind="text", prompt={"en": "Anything else?"}))
    db.session.add_all([invitation, Webhook(brand_id=demo.id, url="https://crm.example/in",
                                            events=["conversation.created"]),
                        CannedReply(brand_id=demo.id, title="Hours", body="Open 24 hours."),
                        ApiToken.issue(demo.id, "CRM", True)[0],
                        AlertTarget(brand_id=demo.id, staff_id=admin.id, label="Pager",
                                    url="json://127.0.0.1:9/pager")])
    tokens = {"inbox.accept_invitation:token": invitation.renew(),
              "inbox.set_password:token": OneTimeLink.issue(agent, "set_password")[1]}
    # A gateway (never reached: its jobs stay queued), so the customer's page asks for a phone.
    demo.sms_url = "json://127.0.0.1:9/sms"
    db.session.commit()
    yield tokens
    connection.flushdb()


def customer_values(demo_id, extra):
    """Every place's slug and every conversation's token, read afresh."""
    slugs = list(db.session.scalars(select(Touchpoint.slug).filter_by(brand_id=demo_id)))
    tokens = list(db.session.scalars(select(Conversation.token).filter_by(brand_id=demo_id)))
    # A verification link nobody was sent: its page says the link no longer works.
    return {"brand_slug": DEMO_SLUG, "tp_slug": slugs, "token": tokens, "fmt": "svg",
            "vtoken": "x" * 43, **extra}


def test_the_xss_corpus_in_every_field_is_shown_as_text_everywhere(app, demo, staged, caplog):
    corpus = Corpus()
    walk = Walk(app, corpus)
    customer, anonymous = app.test_client(), app.test_client()
    # The customer's journey first: survey, "how can we help", the conversation.
    first = [f"/b/{DEMO_SLUG}/{demo.touchpoints[0].slug}"]
    walk.crawl(customer, first)
    # The admin, on every staff page whose URL needs nothing or the demo's first rows.
    admin = Staff(app, "admin@demo.example")
    ids = row_ids(demo.id, admin.member.id) | staged
    staff_rules = [r for r in rules(app, "GET", ("/admin", "/inbox"), pages=True)
                   if r.endpoint not in SIGNED_OUT]
    pages = [url for rule in staff_rules for url in urls(rule, ids)]
    walk.crawl(admin.client, pages)
    walk.crawl(anonymous, [url for r in rules(app, "GET", pages=True) if r.endpoint in SIGNED_OUT
                           for url in urls(r, staged)])
    # Then every page and fragment again, now that everything typed is stored: the staff's
    # (the newest rows, and the links they offer) and the customers'.
    walk.recording = True
    # Every conversation: each shows what its customer typed (name, contact, answers).
    newest = row_ids(demo.id, admin.member.id, newest=True) | staged | {"conversation_id": list(
        db.session.scalars(select(Conversation.id).filter_by(brand_id=demo.id)))}
    again = list(dict.fromkeys(url for rule in staff_rules for found in (ids, newest)
                               for url in urls(rule, found)))
    walk.crawl(admin.client, again, submit=False, follow=True)
    public = [r for r in rules(app, "GET", pages=True)
              if not r.rule.startswith(("/admin", "/inbox"))]
    values = customer_values(demo.id, staged)
    walk.crawl(customer, [url for r in public for url in urls(r, values)], submit=False)

    stored = {corpus.typed[marker][1] for marker in walk.stored}
    print(f"{len(walk.submitted)} forms, {len(walk.fields)} text fields, {len(corpus.typed)} "
          f"payloads typed, {walk.answers} answers checked; shown back from {len(stored)} "
          f"fields; never shown back: {sorted(walk.fields - stored)}")
    problems = [f"typed into {key}: {sorted(kinds)}; {example}"
                for key, (kinds, example) in sorted(walk.problems.items())]
    assert problems == [], f"{len(problems)} fields or pages:\n" + "\n".join(problems)
    assert not tracebacks(caplog)
    # Stored, not only refused: what was typed shows, intact, as text.
    assert MUST_SHOW <= stored and 2 * len(stored) > len(walk.fields), sorted(stored)
    assert any(rule == "/b/<brand_slug>/<tp_slug>" and name.startswith("q")
               for rule, name in stored), sorted(stored)


def test_the_checks_see_each_kind_of_markup_a_payload_makes():
    made = ("<p><script>alert('Pwn0001')</script><img src=x onerror=alert(1)>"
            "<a href=' java\tscript:alert(1)'>x</a><div hx-get='/x?Pwn0002' x='Pwn0002'></div>")
    evaluated = made + "1337Pwn0003</p>"  # {{7*191}}Pwn0003, run as a template
    found = markup_problems(parse(evaluated), evaluated, ["<script>alert('Pwn0001')</script>"])
    assert [problem.split(" ")[0] for problem in found] == [
        "unescaped", "script", "event", "script", "payload", "payload", "a"]
    # The same, escaped, as a page shows what was typed: as text, and as a field's value.
    shown_as_text = f"<p>{escape(made)}</p><input name=x value=\"{escape(made)}\">"
    assert markup_problems(parse(shown_as_text), shown_as_text, [made]) == []
