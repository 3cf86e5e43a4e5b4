"""The teams page: managers create, rename and delete teams and say who is in them."""
import pytest
from sqlalchemy import select

from app.admin import rosters
from models import EscalationLevel, RoutingRule, Team, db
from models.staff import team_membership

from ..inbox.staff import Staff, conversation, soup
from .test_staff import errors, member, row

TEAMS, NEW = "/admin/teams", "#new-team"


def teams(brand):
    db.session.expire_all()
    return db.session.execute(select(Team.slug, Team.name).filter_by(brand_id=brand.id)
                              .order_by(Team.id)).all()


def team(brand, slug):
    db.session.expire_all()
    return db.session.scalar(select(Team).filter_by(brand_id=brand.id, slug=slug))


def memberships():
    return db.session.execute(select(team_membership).order_by(
        team_membership.c.team_id, team_membership.c.staff_id)).all()


def create(person, name):
    return person.submit(person.get(TEAMS), NEW, name=name)


def on(person, team, form, **fields):
    """Send one of `team`'s forms on the teams page (".rename", ".delete", ".add-member")."""
    return person.submit(person.get(TEAMS), f"#team-{team.id} form{form}", **fields)


@pytest.fixture
def manager(app, demo):
    return Staff(app, "manager@demo.example")


def test_the_page_lists_each_team_with_its_members(app, manager, demo):
    page = manager.get(TEAMS)
    assert page.status_code == 200
    desk = row(page, f"#team-{team(demo, 'front-desk').id}")
    assert desk.h2.get_text() == "Front desk"
    assert [li.get_text(" ", strip=True).split(" Remove")[0] for li in desk.select("li")] == \
        ["Ayşe Demir · Agent", "Mehmet Kaya · Team lead"]
    assert desk.select(".add-member") == []  # the others are a manager and an admin
    admin_page = Staff(app, "admin@demo.example").get(TEAMS)
    offered = row(admin_page, f"#team-{team(demo, 'front-desk').id} .add-member").select("option")
    assert [o.get_text() for o in offered] == ["Deniz Aksoy", "Elif Yılmaz"]


def test_create_a_team_its_slug_from_the_name(manager, demo):
    made = create(manager, "  Kat Hizmetleri – Çamaşır ")
    assert made.status_code == 303
    created = team(demo, "kat-hizmetleri-camasir")
    assert created.name == "Kat Hizmetleri – Çamaşır"
    assert made.headers["Location"] == f"/admin/teams#team-{created.id}"
    assert "Team “Kat Hizmetleri – Çamaşır” created" in manager.get(TEAMS).text
    # Another name that makes the same address gets its own.
    assert create(manager, "Kat hizmetleri: çamaşır!").status_code == 303
    assert team(demo, "kat-hizmetleri-camasir-2").name == "Kat hizmetleri: çamaşır!"
    assert create(manager, "Ресепшн").status_code == 303  # nothing Latin to make a slug of
    assert team(demo, "team").name == "Ресепшн"


@pytest.mark.parametrize("name, message", [
    ("", "Please give the team a name, e.g. Housekeeping."),
    ("FRONT DESK", "There is a team “Front desk” already: please choose another name."),
    ("K" * 121, "Please use at most 120 characters (it has 121)."),
])
def test_a_bad_name_is_refused_and_kept_in_the_form(manager, demo, name, message):
    before = teams(demo)
    refused = create(manager, name)
    assert refused.status_code == 422
    assert message in errors(refused)
    assert soup(refused).select_one("#name")["value"] == name
    assert teams(demo) == before


def test_rename_keeps_the_address_and_refuses_a_taken_name(manager, demo):
    kitchen = Team(brand_id=demo.id, slug="kitchen", name="Kitchen")
    db.session.add(kitchen)
    db.session.commit()
    desk = team(demo, "front-desk")
    assert on(manager, desk, ".rename", name="Reception").status_code == 303
    assert team(demo, "front-desk").name == "Reception"
    refused = on(manager, desk, ".rename", name="kitchen")
    assert refused.status_code == 422
    assert errors(refused) == ["There is a team “Kitchen” already: please choose another name."]
    assert row(refused, f"#name-{desk.id}")["value"] == "kitchen"
    assert on(manager, desk, ".rename", name="x" * 200).status_code == 422
    assert teams(demo) == [("front-desk", "Reception"), ("kitchen", "Kitchen")]


def test_add_and_remove_members(app, manager, demo):
    kitchen = rosters.create_team(demo.id, "Kitchen")
    agent, boss = member("agent@demo.example"), member("admin@demo.example")
    added = on(manager, kitchen, ".add-member", staff=str(agent.id))
    assert added.status_code == 303
    assert "Ayşe Demir is in “Kitchen” now." in manager.get(TEAMS).text
    assert [m.email for m in team(demo, "kitchen").members] == ["agent@demo.example"]
    removed = manager.submit(manager.get(TEAMS), f'#team-{kitchen.id} form[action$="/members/'
                                                 f'{agent.id}/remove"]')
    assert removed.status_code == 303
    assert team(demo, "kitchen").members == []
    # The staff page's rule: a manager neither puts an admin in a team nor takes one out.
    refused = manager.client.post(f"/admin/teams/{kitchen.id}/members",
                                  data={"csrf_token": manager.token, "staff": str(boss.id)})
    assert refused.status_code == 422
    assert errors(refused) == ["You cannot change Deniz Aksoy, who is Admin: you may change "
                               "only people who are Agent, Team lead."]
    admin = Staff(app, "admin@demo.example")
    assert on(admin, kitchen, ".add-member", staff=str(boss.id)).status_code == 303
    page = manager.get(TEAMS)
    assert row(page, f"#team-{kitchen.id}").select("form[action*='/members/']") == []
    refused = manager.client.post(f"/admin/teams/{kitchen.id}/members/{boss.id}/remove",
                                  data={"csrf_token": manager.token})
    assert refused.status_code == 422
    assert [m.email for m in team(demo, "kitchen").members] == ["admin@demo.example"]


def test_a_team_in_use_is_not_deleted_and_the_page_says_why(manager, demo):
    desk = team(demo, "front-desk")
    page = manager.get(TEAMS)
    assert row(page, f"#team-{desk.id}").select(".delete") == []
    refused = manager.client.post(f"/admin/teams/{desk.id}/delete",
                                  data={"csrf_token": manager.token})
    assert refused.status_code == 422
    assert errors(refused) == ["A routing rule sends conversations to “Front desk”: change or "
                               "delete that rule on the Routing page first."]
    db.session.execute(RoutingRule.__table__.delete())
    db.session.commit()
    conversation(demo, "Towels", team=desk)
    refused = manager.client.post(f"/admin/teams/{desk.id}/delete",
                                  data={"csrf_token": manager.token})
    assert refused.status_code == 422 and "“Front desk” has conversations" in errors(refused)[0]
    assert team(demo, "front-desk") is not None


def test_a_team_the_escalation_chain_alerts_is_not_deleted(manager, demo):
    spare = Team(brand_id=demo.id, slug="night", name="Night shift")
    db.session.add(spare)
    db.session.flush()
    db.session.add(EscalationLevel(brand_id=demo.id, position=5, after_seconds=60,
                                   urgent_after_seconds=60, target_kind="team",
                                   target_value=str(spare.id)))
    db.session.commit()
    refused = manager.client.post(f"/admin/teams/{spare.id}/delete",
                                  data={"csrf_token": manager.token})
    assert refused.status_code == 422
    assert "The escalation chain alerts “Night shift”" in errors(refused)[0]


def test_an_unused_team_is_deleted_and_its_members_stay(manager, demo):
    spare = Team(brand_id=demo.id, slug="night", name="Night shift",
                 members=[member("agent@demo.example")])
    db.session.add(spare)
    db.session.commit()
    spare_id = spare.id
    deleted = on(manager, spare, ".delete")
    assert deleted.status_code == 303 and deleted.headers["Location"] == TEAMS
    assert "Team “Night shift” deleted." in manager.get(TEAMS).text
    assert team(demo, "night") is None
    assert member("agent@demo.example").active
    assert spare_id not in [row.team_id for row in memberships()]


def test_another_brands_teams_and_staff_are_not_found(manager, demo, other_brand):
    brand, owner, _token = other_brand
    theirs = db.session.scalar(select(Team).filter_by(brand_id=brand.id))
    desk, token = team(demo, "front-desk"), manager.token
    before = (teams(demo), teams(brand), memberships())
    for action in ("rename", "delete", "members"):
        answer = manager.client.post(f"/admin/teams/{theirs.id}/{action}",
                                     data={"csrf_token": token, "name": "Mine", "staff": "1"})
        assert answer.status_code == 404, action
    answer = manager.client.post(f"/admin/teams/{desk.id}/members/{owner.id}/remove",
                                 data={"csrf_token": token})
    assert answer.status_code == 404
    refused = manager.client.post(f"/admin/teams/{desk.id}/members",
                                  data={"csrf_token": token, "staff": str(owner.id)})
    assert refused.status_code == 422
    assert errors(refused) == ["Please choose someone of your staff."]
    assert (teams(demo), teams(brand), memberships()) == before


def test_only_managers_and_admins_edit_teams(app, demo):
    for email in ("agent@demo.example", "lead@demo.example"):
        person = Staff(app, email)
        assert person.get(TEAMS).status_code == 403
        answer = person.client.post(TEAMS, data={"csrf_token": person.token, "name": "Mine"})
        assert answer.status_code == 403
    assert Staff(app, "admin@demo.example").get(TEAMS).status_code == 200
    assert db.session.scalar(select(Team.id).filter_by(name="Mine")) is None
