"""Every /admin URL with another brand's ids is a 404 that changes nothing; other roles get 403."""
import re

import pytest
from sqlalchemy import select

from models import Brand, Category, Question, Survey, Touchpoint, db

from ..inbox.staff import Staff

MODELS = {"touchpoint_id": Touchpoint, "category_id": Category, "survey_id": Survey}
# What a form on these pages could carry: whatever a view reads, it finds something to act on.
FORM = {"name": "Taken over", "label": "Taken over", "slug": "taken-over", "kind": "room",
        "labels_en": "Taken over", "label_en": "Taken over", "prompt_en": "Taken over?",
        "taxonomy": "other", "survey": "", "direction": "up", "position": "up",
        "question_kind": "rating", "required": "y", "choices": "A\nB"}


def admin_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def snapshot():
    """Every row a brand setup page could change, read afresh."""
    db.session.expire_all()
    return [db.session.execute(select(model.__table__).order_by(model.id)).all()
            for model in (Brand, Touchpoint, Category, Survey, Question)]


def foreign_ids(brand_id):
    """The other brand's ids, one of each kind; its question is its survey's first."""
    ids = {name: db.session.scalar(select(model.id).filter_by(brand_id=brand_id)
                                   .order_by(model.id)) for name, model in MODELS.items()}
    ids["question_id"] = db.session.scalar(select(Question.id).filter_by(
        survey_id=ids["survey_id"]).order_by(Question.id))
    return ids


def fill(rule, ids):
    url = rule.rule
    for argument in rule.arguments:
        value = ids[argument] if argument in ids else "up"
        url = re.sub(rf"<[^>]*{argument}>", str(value), url)
    return url


def test_another_brands_ids_are_absent_everywhere(app, admin, other_brand):
    theirs = foreign_ids(other_brand[0].id)
    demo_id = db.session.scalar(select(Brand.id).filter_by(slug="demo"))
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
    assert walked >= 20
    assert snapshot() == before


@pytest.mark.parametrize("email", ["agent@demo.example", "lead@demo.example",
                                   "manager@demo.example"])
def test_no_other_role_may_use_admin(app, demo, email):
    staff = Staff(app, email)
    before = snapshot()
    ids = foreign_ids(demo.id)
    for rule in admin_rules(app):
        url = fill(rule, ids)
        if "GET" in rule.methods:
            assert staff.get(url).status_code == 403, url
        if "POST" in rule.methods:
            posted = staff.client.post(url, data={**FORM, "csrf_token": staff.token})
            assert posted.status_code == 403, url
    assert snapshot() == before


def test_signed_out_every_admin_url_asks_to_sign_in(app, demo, client):
    ids = foreign_ids(demo.id)
    for rule in admin_rules(app):
        url = fill(rule, ids)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302 and "/inbox/login" in response.location, url
