"""Every /admin URL against the one role table, as each role of the demo brand and signed out.

The walk reads app.url_map when it runs: a page added later is walked too, and one whose URL
takes an argument this file cannot fill fails here until ids() learns it.
"""
import itertools

import pytest
import redis
from flask import url_for
from rq import Queue
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from app.core.navigation import NAVIGATION
from app.core.permissions import PERMISSIONS, can, permission_of, roles_with
from app.demo import STAFF
from models import (
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
from models.staff import ROLES

from ..inbox.staff import Staff, form_values, soup
from ..inbox.test_isolation import everything

# A database of its own: the walk's retraining waits there, never run, and no other test's
# queue (tests/inbox use database 12) sees it.
REDIS_URL = "redis://127.0.0.1:6379/13"
EMAILS = {role: email for email, _name, role in STAFF}
# Pages this walk must meet: the url_map filter cannot quietly lose them.
KNOWN = {"admin.index", "admin.brand_settings", "admin.touchpoint_edit", "admin.canned_replies",
         "admin.edit_canned", "admin.delete_canned", "admin.routing_rules",
         "admin.delete_routing_rule", "admin.escalation_policy", "admin.delete_escalation_level",
         "admin.business_hours", "admin.webhooks", "admin.delete_webhook", "admin.tagging_model",
         "admin.retrain_model", "admin.export_conversation", "admin.export_contact",
         "admin.erase_conversation", "admin.erase_contact"}
# The settings pages that moved from /inbox, and the one permission each asks for.
SETTINGS = {"/admin/canned": "canned.edit", "/admin/routing": "routing.edit",
            "/admin/escalation": "escalation.edit", "/admin/webhooks": "webhooks.edit",
            "/admin/model": "model.retrain"}
BRAND_OWNED = {"touchpoint_id": Touchpoint, "category_id": Category, "rule_id": RoutingRule,
               "level_id": EscalationLevel, "webhook_id": Webhook, "canned_id": CannedReply,
               "team_id": Team, "invitation_id": Invitation, "token_id": ApiToken,
               "conversation_id": Conversation, "contact_id": Contact}


def ids(brand_id, walker):
    """A real id of the brand's for each argument a URL may take, looked up afresh."""
    found = {name: db.session.scalar(select(model.id).filter_by(brand_id=brand_id)
                                     .order_by(model.id)) for name, model in BRAND_OWNED.items()}
    found["survey_id"] = db.session.scalar(select(Survey.id).join(Question).where(
        Survey.brand_id == brand_id).order_by(Survey.id))
    found["question_id"] = db.session.scalar(select(Question.id).filter_by(
        survey_id=found["survey_id"]).order_by(Question.position, Question.id))
    # Someone else (the front desk's agent, or lead): acting on one's own account could end
    # the walker's session.
    found["staff_id"] = db.session.scalar(select(StaffMember.id).where(
        StaffMember.brand_id == brand_id, StaffMember.id != walker.id).order_by(StaffMember.id))
    return found


def urls(rule, values):
    """Every URL of `rule` with `values`; an argument it cannot fill fails the test."""
    names = sorted(rule.arguments)
    choices = []
    for name in names:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            choices.append(sorted(converter.items))
            continue
        assert isinstance(converter, IntegerConverter) and values.get(name) is not None, \
            f"cannot fill <{name}> of {rule.rule}: teach ids() where the brand's one is"
        choices.append([values[name]])
    return [rule.build(dict(zip(names, combo, strict=True)))[1]
            for combo in itertools.product(*choices)]


def admin_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")),
                  key=lambda rule: rule.rule)


def to_login(answer):
    return answer.status_code == 302 and answer.location.startswith("/inbox/login")


@pytest.fixture
def slow_queue(app, monkeypatch):
    """Point the app at a Redis of the test's own; yield its empty "slow" queue."""
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield Queue("slow", connection=connection)
    connection.flushdb()


@pytest.fixture
def demo_settings(demo):
    """What the demo lacks for every page to act on: a webhook, a reply, an invitation, a
    customer's contact and conversation."""
    invitation = Invitation(brand_id=demo.id, email="invited@demo.example", role="agent")
    invitation.renew()
    contact = Contact(brand_id=demo.id, channel="email", address="guest@example.com")
    db.session.add(contact)
    db.session.flush()
    customer = Conversation(brand=demo, touchpoint=demo.touchpoints[0], contact_id=contact.id)
    customer.add_message("customer", "Could I have more towels?")
    db.session.add_all([Webhook(brand_id=demo.id, url="https://crm.example/in",
                                events=["conversation.created"]),
                        CannedReply(brand_id=demo.id, title="Hours", body="Open 24 hours."),
                        invitation, customer,
                        ApiToken.issue(demo.id, "CRM", True)[0]])
    db.session.commit()
    return demo


def test_every_admin_view_names_a_permission_of_the_table(app):
    rules, sections = admin_rules(app), {}
    assert {rule.endpoint for rule in rules} >= KNOWN
    for rule in rules:
        permission = permission_of(app.view_functions[rule.endpoint])
        assert permission in PERMISSIONS, (rule.rule, permission)
        sections.setdefault("/".join(rule.rule.split("/")[:3]), set()).add(permission)
    # Seeing a page and acting on it take one permission: every URL of a section asks the same.
    assert {section: p for section, p in sections.items() if len(p) > 1} == {}
    assert {section: sections[section] for section in SETTINGS} == {
        section: {permission} for section, permission in SETTINGS.items()}


def test_the_menu_names_the_permission_its_page_asks_for(app):
    for endpoint, _label, permission in NAVIGATION:
        asked = permission_of(app.view_functions[endpoint])
        # An inbox page needs only a signed-in person: the lowest role's permission.
        assert asked == permission or (asked is None and endpoint.startswith("inbox.")
                                       and roles_with(permission) == list(ROLES)), endpoint
    assert {endpoint for endpoint, _label, _p in NAVIGATION} >= {
        "admin.canned_replies", "admin.routing_rules", "admin.escalation_policy",
        "admin.tagging_model", "admin.webhooks"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_pages_the_table_gives_it(app, demo_settings, slow_queue,
                                                              role):
    staff = Staff(app, EMAILS[role])
    assert staff.member.role == role
    rules, walked = admin_rules(app), set()

    def check(method, rule, url, answer):
        permission = permission_of(app.view_functions[rule.endpoint])
        seen = (role, method, url, answer.status_code, answer.location)
        if not can(staff.member, permission):
            assert answer.status_code == 403, seen
        elif method == "GET":
            assert answer.status_code == 200, seen
        else:
            # Its own brand's ids and a valid token: never refused, never broken, never lost.
            assert answer.status_code in (200, 303, 422) and not to_login(answer), seen
        walked.add(rule.endpoint)

    for rule in rules:
        if "GET" in rule.methods:
            for url in urls(rule, ids(demo_settings.id, staff.member)):
                check("GET", rule, url, staff.get(url))
    # Deletions last, each URL with ids afresh: every post before finds what it acts on.
    posts = sorted((r for r in rules if "POST" in r.methods),
                   key=lambda r: (r.rule.endswith("/delete"), r.rule))
    for rule in posts:
        for url in urls(rule, ids(demo_settings.id, staff.member)):
            check("POST", rule, url, staff.client.post(url, data={"csrf_token": staff.token}))
    assert walked == {rule.endpoint for rule in rules} and walked >= KNOWN
    assert slow_queue.count == (1 if can(staff.member, "model.retrain") else 0)


def test_each_roles_menu_shows_exactly_what_it_may_use(app, demo):
    with app.test_request_context():
        links = [(url_for(endpoint), permission) for endpoint, _label, permission in NAVIGATION]
    menus = []
    for role in ROLES:
        staff = Staff(app, EMAILS[role])
        shown = [a["href"] for a in soup(staff.get("/inbox/")).select(
            'nav[aria-label="Main menu"] a')]
        assert shown == [url for url, permission in links if can(staff.member, permission)], role
        for url in shown:
            assert staff.get(url).status_code == 200, (role, url)
        menus.append(set(shown))
    # Each role sees more than the one below it; the admin sees every entry.
    assert all(lower < higher for lower, higher in itertools.pairwise(menus))
    assert menus[-1] == {url for url, _permission in links}


def test_a_visitor_signed_out_is_sent_to_sign_in_and_changes_nothing(app, demo_settings, client):
    login_page = client.get("/inbox/login")
    token = form_values(soup(login_page).select_one("form"))["csrf_token"]
    before = everything(db.session)
    walker = db.session.scalar(select(StaffMember).filter_by(email=EMAILS["admin"]))
    for rule in admin_rules(app):
        for url in urls(rule, ids(demo_settings.id, walker)):
            if "GET" in rule.methods:
                assert to_login(client.get(url)), url
            if "POST" in rule.methods:
                assert to_login(client.post(url, data={"csrf_token": token})), url
    assert everything(db.session) == before
