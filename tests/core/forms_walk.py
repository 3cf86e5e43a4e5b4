"""The probe's walk: app.url_map's rules filled from the demo's rows, forms read, markup found."""
# A rule whose URL takes an argument nobody can fill fails the test that walks it: teach
# row_ids() (an id) or the test's string values where the new kind of row is found.
import itertools
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter

from models import (
    AlertTarget,
    ApiToken,
    CannedReply,
    Category,
    Contact,
    Conversation,
    EscalationLevel,
    Invitation,
    Question,
    RoutingRule,
    StaffMember,
    Survey,
    Team,
    Touchpoint,
    Webhook,
    db,
)

ROOT = str(Path(__file__).resolve().parents[2])
TEXT_TYPES = {"text", "email", "url", "search", "tel"}
# Signed-out pages of the staff side: walked with a signed-out browser of their own.
SIGNED_OUT = {"inbox.login", "inbox.forgot_password", "inbox.set_password",
              "inbox.accept_invitation"}
# Files, not pages rendered from what anybody typed; WebSockets and the JSON API (tests/api
# walks it from its OpenAPI document), not pages.
NOT_PAGES = ("static", "vendor_file", "realtime.", "api.")
BRAND_OWNED = {"touchpoint_id": Touchpoint, "category_id": Category, "rule_id": RoutingRule,
               "level_id": EscalationLevel, "webhook_id": Webhook, "canned_id": CannedReply,
               "team_id": Team, "invitation_id": Invitation, "token_id": ApiToken,
               "conversation_id": Conversation}
# Attributes that may hold what a person typed: the value of a field, a tooltip, a label.
TEXT_ATTRIBUTES = {"value", "title", "alt", "placeholder", "aria-label", "content",
                   "data-label"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "srcset",
                  "xlink:href", "background", "ping", "ws-connect"}
BAD_SCHEMES = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)
# Whitespace and controls a browser ignores inside a URL's scheme ("java\tscript:").
URL_NOISE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
MARKER = re.compile(r"Pwn\d{4}")


def row_ids(brand_id, walker_id, newest=False):
    """A real id of the brand's for each id a URL may take (the first row, or the newest)."""
    order = (lambda column: column.desc()) if newest else (lambda column: column)
    found = {name: db.session.scalar(select(model.id).filter_by(brand_id=brand_id)
                                     .order_by(order(model.id)).limit(1))
             for name, model in BRAND_OWNED.items()}
    found["survey_id"] = db.session.scalar(select(Survey.id).join(Question).where(
        Survey.brand_id == brand_id).order_by(order(Survey.id)).limit(1))
    found["question_id"] = db.session.scalar(select(Question.id).filter_by(
        survey_id=found["survey_id"]).order_by(order(Question.id)).limit(1))
    # Someone else: acting on one's own account could end the walker's session.
    found["staff_id"] = db.session.scalar(select(StaffMember.id).where(
        StaffMember.brand_id == brand_id, StaffMember.id != walker_id)
        .order_by(order(StaffMember.id)).limit(1))
    found["contact_id"] = customer_contact(brand_id)
    # Alert targets are the signed-in person's own.
    found["target_id"] = db.session.scalar(select(AlertTarget.id).filter_by(
        staff_id=walker_id).order_by(order(AlertTarget.id)).limit(1))
    return found


def customer_contact(brand_id):
    """The id of the brand's contact; without one, the first conversation's customer becomes
    one (as pressing a verification link makes them), so that its pages and form are walked."""
    found = db.session.scalar(select(Contact.id).filter_by(brand_id=brand_id)
                              .order_by(Contact.id).limit(1))
    first = db.session.scalar(select(Conversation).filter_by(brand_id=brand_id)
                              .order_by(Conversation.id).limit(1))
    if found is not None or first is None:
        return found
    contact = Contact(brand_id=brand_id, channel="email", address=f"probe-{brand_id}@example.com")
    db.session.add(contact)
    db.session.flush()
    first.contact_id, first.reach_channel, first.reach_address = contact.id, "email", contact.address
    db.session.commit()
    return contact.id


def urls(rule, values):
    """Every URL of `rule` with `values` ("endpoint:name", then name; a list: each); or fail."""
    names = sorted(rule.arguments - set(rule.defaults or ()))
    choices = []
    for name in names:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            choices.append(sorted(converter.items))
            continue
        value = values.get(f"{rule.endpoint}:{name}", values.get(name))
        if value is None:
            pytest.fail(f"cannot fill <{name}> of {rule.rule} ({rule.endpoint}): teach "
                        "tests/core/forms_walk.py row_ids(), or the test, where one is")
        choices.append(value if isinstance(value, list) else [value])
    return [rule.build(dict(zip(names, combo, strict=True)))[1]
            for combo in itertools.product(*choices)]


def rules(app, method, prefixes=None, pages=False):
    """The rules answering `method` in URL order, under `prefixes`; with `pages`, pages only."""
    return sorted((r for r in app.url_map.iter_rules() if method in r.methods
                   and not (pages and r.endpoint.startswith(NOT_PAGES))
                   and (prefixes is None or r.rule.startswith(prefixes))),
                  key=lambda r: r.rule)


def described(error):
    """An exception in one line: its type, its message, and the last line of ours it left."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f.filename.startswith((f"{ROOT}/app/", f"{ROOT}/models/"))]
    frame = (ours or frames)[-1]
    message = str(error).splitlines()[0][:200] if str(error) else ""
    return (f"{type(error).__name__}: {message} (at {frame.filename.removeprefix(ROOT + '/')}"
            f":{frame.lineno})")


@dataclass
class Form:
    """A <form>: where it posts, what a browser sends untouched, and its text fields."""
    action: str
    method: str
    values: dict
    text: list = field(default_factory=list)  # (name, type) of each text field
    kinds: dict = field(default_factory=dict)  # every field's type: text, select, number...

    @property
    def key(self):
        return self.action, tuple(sorted(self.values))


def parse(text):
    return BeautifulSoup(text, "html.parser")


def forms(page, page_url):
    """The forms of a parsed page, as a browser sends them (checked boxes, selected options)."""
    found = []
    for element in page.find_all("form"):
        action = urlsplit(urljoin(page_url, element.get("action") or page_url))
        form = Form(action.path + (f"?{action.query}" if action.query else ""),
                    (element.get("method") or "get").upper(), {})
        for control in element.find_all(["input", "textarea", "select"]):
            name, kind = control.get("name"), (control.get("type") or "text").lower()
            if not name or control.has_attr("disabled") or kind in (
                    "submit", "button", "image", "reset", "file"):
                continue
            form.kinds[name] = control.name if control.name != "input" else kind
            if control.name == "textarea":
                value = control.get_text()
                form.text.append((name, "textarea"))
            elif control.name == "select":
                option = control.find("option", selected=True) or control.find("option")
                value = option.get("value", option.get_text()) if option else ""
            elif kind in ("radio", "checkbox"):
                if not control.has_attr("checked"):
                    continue
                value = control.get("value", "on")
            else:
                value = control.get("value", "")
                if kind in TEXT_TYPES:
                    form.text.append((name, kind))
            previous = form.values.get(name)
            form.values[name] = value if previous is None else [
                *(previous if isinstance(previous, list) else [previous]), value]
        found.append(form)
    return found


def markup_problems(page, text, instances=()):
    """What a payload made in a page: scripts, handlers, attributes, script URLs, raw payloads."""
    problems = [f"unescaped payload {raw!r}" for raw in instances if raw in text]
    for script in page.find_all("script"):
        src = script.get("src") or ""
        if not src.startswith("/static/") or script.get_text().strip():
            problems.append(f"script not from /static/: {str(script)[:160]}")
    for element in page.find_all(True):
        for name, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            where = f"<{element.name} {name}={value[:120]!r}>"
            if name.startswith("on"):
                problems.append(f"event handler {where}")
            elif name in URL_ATTRIBUTES | {"hx-get", "hx-post", "hx-put", "hx-delete"} and \
                    (bad := BAD_SCHEMES.match(URL_NOISE.sub("", value))) and (
                        MARKER.search(value) or bad.group(1).lower() != "data"):
                problems.append(f"script URL {where}")
            elif MARKER.search(value) and name not in TEXT_ATTRIBUTES:
                problems.append(f"payload in an attribute {where}")
    if re.search(r"1337\W{0,3}Pwn\d{4}", text):
        problems.append("a template expression was evaluated: "
                        + re.search(r".{0,40}1337\W{0,3}Pwn\d{4}", text).group())
    return problems


def shown(page):
    """What a person sees on a parsed page or finds in its fields: texts and attribute values."""
    values = [" ".join(v) if isinstance(v, list) else v
              for element in page.find_all(True) for v in element.attrs.values()]
    return "\n".join([*page.find_all(string=True), *values])


def links(page, page_url):
    """The same-site paths (with query) a parsed page links to."""
    found = []
    for anchor in page.find_all("a", href=True):
        target = urlsplit(urljoin(page_url, anchor["href"]))
        if target.scheme in ("", "http") and target.netloc in ("", "localhost", "kulak.test"):
            found.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def discover(client, pages, adapter):
    """The forms `pages` show, by the POST rule they post to; and their links' query names."""
    found, queries = {}, set()
    for url in pages:
        answer = client.get(url, buffered=True)  # streamed answers read in their request
        if answer.mimetype != "text/html":
            continue
        page = parse(answer.text)
        for form in forms(page, url):
            try:
                rule, _ = adapter.match(form.action.split("?")[0], method="POST",
                                        return_rule=True)
            except Exception:
                continue
            found.setdefault(rule.rule, form)
        queries |= {p.split("=")[0] for link in links(page, url) if "?" in link
                    for p in link.split("?", 1)[1].split("&") if p}
    return found, queries
