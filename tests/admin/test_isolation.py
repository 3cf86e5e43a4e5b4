"""Every /admin URL with another brand's ids is a 404 that changes nothing (who may use which
page: tests/admin/test_role_matrix.py)."""
import re

from sqlalchemy import select

from models import (
    ApiToken,
    Brand,
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

MODELS = {"touchpoint_id": Touchpoint, "category_id": Category, "survey_id": Survey,
          "rule_id": RoutingRule, "level_id": EscalationLevel, "webhook_id": Webhook,
          "canned_id": CannedReply, "team_id": Team, "staff_id": StaffMember,
          "invitation_id": Invitation, "token_id": ApiToken, "conversation_id": Conversation,
          "contact_id": Contact}
# What a form on these pages could carry: whatever a view reads, it finds something to act on.
FORM = {"name": "Taken over", "label": "Taken over", "slug": "taken-over", "kind": "room",
        "labels_en": "Taken over", "label_en": "Taken over", "prompt_en": "Taken over?",
        "taxonomy": "other", "survey": "", "direction": "up", "position": "up",
        "question_kind": "rating", "required": "y", "choices": "A\nB", "title": "Taken over",
        "body": "Taken over", "url": "https://taken-over.example/", "events": "message.created",
        "mon_opens": "09:00", "mon_closes": "10:00", "after_minutes": "5",
        "urgent_after_minutes": "1", "waits_for": "reply", "act": "alert", "target": "role:admin"}


def admin_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def snapshot():
    """Every row a brand setup page could change, read afresh."""
    db.session.expire_all()
    return [db.session.execute(select(model.__table__).order_by(model.id)).all()
            for model in (Brand, Touchpoint, Category, Survey, Question, *MODELS.values())]


def with_settings(brand_id):
    """Give the brand what a new brand lacks: a webhook, a canned reply, a token, an invitation,
    a customer's contact and conversation."""
    invitation = Invitation(brand_id=brand_id, email=f"invited-{brand_id}@example.com",
                            role="agent")
    invitation.renew()
    contact = Contact(brand_id=brand_id, channel="email", address=f"guest-{brand_id}@example.com")
    db.session.add(contact)
    db.session.flush()
    customer = Conversation(brand_id=brand_id, contact_id=contact.id)
    customer.add_message("customer", "Could I have more towels?")
    db.session.add_all([Webhook(brand_id=brand_id, url="https://crm.example/in",
                                events=["conversation.created"]),
                        CannedReply(brand_id=brand_id, title="Hours", body="Open 24 hours."),
                        ApiToken.issue(brand_id, "CRM", True)[0], invitation, customer])
    db.session.commit()


def foreign_ids(brand_id):
    """The other brand's ids, one of each kind; its question is its survey's first."""
    ids = {name: db.session.scalar(select(model.id).filter_by(brand_id=brand_id)
                                   .order_by(model.id)) for name, model in MODELS.items()}
    ids["question_id"] = db.session.scalar(select(Question.id).filter_by(
        survey_id=ids["survey_id"]).order_by(Question.id))
    return ids


def fill(rule, ids):
    """Return the URL of `rule` with `ids`; an id of a new kind fails here until it is added."""
    url = rule.rule
    for argument in rule.arguments:
        value = "up" if argument == "direction" else ids[argument]
        assert value is not None, f"the brand has no {argument} for {rule.rule}"
        url = re.sub(rf"<[^>]*{argument}>", str(value), url)
    return url


def test_another_brands_ids_are_absent_everywhere(app, admin, other_brand):
    demo_id = db.session.scalar(select(Brand.id).filter_by(slug="demo"))
    for brand_id in (other_brand[0].id, demo_id):
        with_settings(brand_id)
    theirs = foreign_ids(other_brand[0].id)
    mine = foreign_ids(demo_id)
    before = snapshot()
    walked = 0
    for rule in admin_rules(app):
        if not rule.arguments - {"direction"}:
            continue
        # Their ids throughout, and my survey with their question.
        mixes = [theirs] + ([{**theirs, "survey_id": mine["survey_id"]}]
                            if "question_id" in rule.arguments else [])
        for ids in mixes:
            url = fill(rule, ids)
            if "GET" in rule.methods:
                assert admin.get(url).status_code == 404, url
            if "POST" in rule.methods:
                posted = admin.client.post(url, data={**FORM, "csrf_token": admin.token})
                assert posted.status_code == 404, (url, posted.status_code)
            walked += 1
    assert walked >= 25
    assert snapshot() == before


def test_signed_out_every_admin_url_asks_to_sign_in(app, demo, client):
    with_settings(demo.id)
    ids = foreign_ids(demo.id)
    for rule in admin_rules(app):
        url = fill(rule, ids)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302 and "/inbox/login" in response.location, url
