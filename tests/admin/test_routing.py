"""The routing page: leads and above add and delete rules, with their own brand's choices."""
from sqlalchemy import delete, select

from models import RoutingRule, Team, db

from ..inbox.staff import Staff, soup
from ..inbox.test_isolation import build_rival


def test_a_lead_manages_rules_only_with_their_brands_teams_and_places(app, demo):
    front_desk = db.session.scalar(select(Team).filter_by(brand_id=demo.id, slug="front-desk"))
    rival = build_rival(db.session)
    db.session.execute(delete(RoutingRule).filter_by(brand_id=demo.id))  # the demo's own
    db.session.commit()
    lead = Staff(app, "lead@demo.example")
    page = lead.get("/admin/routing")
    assert "No rules yet" in page.text
    for field, value in (("team", str(rival["team"])), ("touchpoint", str(rival["touchpoint"])),
                         ("team", "")):
        refused = lead.submit(page, "form.card", **{"team": str(front_desk.id), field: value})
        assert refused.status_code == 422
        assert soup(refused).select_one("p.error") is not None
    assert db.session.scalars(select(RoutingRule).filter_by(brand_id=demo.id)).all() == []
    added = lead.submit(page, "form.card", team=str(front_desk.id), urgency="urgent")
    assert (added.status_code, added.headers["Location"]) == (303, "/admin/routing")
    stored = db.session.scalar(select(RoutingRule).filter_by(brand_id=demo.id))
    assert (stored.team_id, stored.urgency, stored.category) == (front_desk.id, "urgent", None)
    listed = lead.get("/admin/routing")
    assert "Front desk" in soup(listed).select_one(f"#rule-{stored.id}").get_text()
    assert lead.submit(listed, f"#rule-{stored.id} form").status_code == 303
    assert db.session.scalars(select(RoutingRule).filter_by(brand_id=demo.id)).all() == []


def test_a_new_rule_is_tried_after_the_existing_ones(app, demo):
    lead = Staff(app, "lead@demo.example")
    team = db.session.scalar(select(Team.id).filter_by(brand_id=demo.id))
    assert lead.submit(lead.get("/admin/routing"), "form.card", team=str(team),
                       language="tr").status_code == 303
    rules = RoutingRule.for_brand(demo.id)
    assert [rule.language for rule in rules] == [None, "tr"]  # the demo's catch-all first
    assert rules[1].position > rules[0].position


def test_agents_neither_see_nor_change_the_rules(app, demo):
    agent = Staff(app, "agent@demo.example")
    team = db.session.scalar(select(Team.id).filter_by(brand_id=demo.id))
    before = db.session.scalars(select(RoutingRule.id)).all()
    assert agent.get("/admin/routing").status_code == 403
    answer = agent.client.post("/admin/routing", data={"csrf_token": agent.token,
                                                       "team": str(team)})
    assert answer.status_code == 403
    deleted = agent.client.post(f"/admin/routing/{before[0]}/delete",
                                data={"csrf_token": agent.token})
    assert deleted.status_code == 403
    assert db.session.scalars(select(RoutingRule.id)).all() == before
    assert "/admin/routing" not in agent.get("/inbox/").text
