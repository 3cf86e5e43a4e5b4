"""The escalation page: managers and above edit the levels and the business hours."""
import pytest
from sqlalchemy import select

from models import Brand, Escalation, EscalationLevel, StaffMember, db

from ..inbox.staff import Staff, conversation, soup

LEVEL, HOURS = 'form[action="/admin/escalation"]', 'form[action="/admin/escalation/hours"]'


@pytest.fixture
def manager(app, demo):
    return Staff(app, "manager@demo.example")


def add_level(staff, **fields):
    return staff.submit(staff.get("/admin/escalation"), LEVEL, **fields)


def test_a_manager_adds_and_deletes_a_level(demo, manager):
    lead = db.session.scalar(select(StaffMember).filter_by(email="lead@demo.example"))
    added = add_level(manager, waits_for="seen", after_minutes="5", urgent_after_minutes="2",
                      act="reassign", target=f"staff:{lead.id}")
    assert (added.status_code, added.headers["Location"]) == (303, "/admin/escalation")
    level = EscalationLevel.for_brand(demo.id)[-1]
    assert (level.waits_for, level.after_seconds, level.urgent_after_seconds, level.action,
            level.target_kind, level.target_value) == (
        "seen", 300, 120, "reassign", "staff", str(lead.id))
    page = manager.get("/admin/escalation")
    assert "Mehmet Kaya" in soup(page).select_one(f"#level-{level.id}").get_text()
    assert manager.submit(page, f'#level-{level.id} form').status_code == 303
    assert len(EscalationLevel.for_brand(demo.id)) == 2


def test_deleting_a_level_drops_the_deadlines_it_set(demo, manager):
    Escalation.plan(conversation(demo, "Nobody has answered me"))
    db.session.commit()
    first = EscalationLevel.for_brand(demo.id)[0].id
    assert db.session.scalars(select(Escalation).filter_by(level_id=first)).all() != []
    assert manager.submit(manager.get("/admin/escalation"),
                          f"#level-{first} form").status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(Escalation).filter_by(level_id=first)).all() == []
    assert db.session.get(EscalationLevel, first) is None


@pytest.mark.parametrize("fields, message", [
    ({"after_minutes": "3", "urgent_after_minutes": "5"},
     "Urgent conversations should climb at least as fast: use at most 3 minutes."),
    ({"after_minutes": "0"}, "Please give between 1 and 10080 minutes"),
    ({"after_minutes": "99999"}, "Please give between 1 and 10080 minutes"),
    ({"after_minutes": ""}, "Please say how many minutes to wait."),
    ({"target": "staff:999999"}, "Please choose someone of this brand."),
    ({"waits_for": "lunch"}, "Not a valid choice"),
])
def test_a_bad_level_is_refused_with_a_clear_message(demo, manager, fields, message):
    before = len(EscalationLevel.for_brand(demo.id))
    refused = add_level(manager, **{"after_minutes": "10", "urgent_after_minutes": "2", **fields})
    assert refused.status_code == 422
    assert message in soup(refused).get_text()
    assert len(EscalationLevel.for_brand(demo.id)) == before


@pytest.mark.parametrize("email", ["agent@demo.example", "lead@demo.example"])
def test_agents_and_leads_neither_see_nor_change_the_policy(app, demo, email):
    staff = Staff(app, email)
    level = EscalationLevel.for_brand(demo.id)[0]
    data = {"csrf_token": staff.token, "after_minutes": "1", "urgent_after_minutes": "1",
            "waits_for": "reply", "act": "alert", "target": "role:lead", "mon_opens": "09:00",
            "mon_closes": "18:00"}
    assert staff.get("/admin/escalation").status_code == 403
    for url in ("/admin/escalation", "/admin/escalation/hours",
                f"/admin/escalation/{level.id}/delete"):
        assert staff.client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert len(EscalationLevel.for_brand(demo.id)) == 2
    assert db.session.get(Brand, demo.id).business_hours == {}


def test_business_hours_are_saved_and_checked(demo, manager):
    page = manager.get("/admin/escalation")
    saved = manager.submit(page, HOURS, mon_opens="09:00", mon_closes="18:00")
    assert (saved.status_code, saved.headers["Location"]) == (303, "/admin/escalation")
    db.session.expire_all()
    assert db.session.get(Brand, demo.id).business_hours == {"mon": ["09:00", "18:00"]}
    shown = soup(manager.get("/admin/escalation")).select_one('input[name="mon_opens"]')
    assert shown["value"] == "09:00"
    for fields, message in [({"tue_opens": "18:00", "tue_closes": "09:00"},
                             "The closing time must be after the opening time."),
                            ({"wed_opens": "09:00"}, "Please give both the opening and the "
                                                     "closing time")]:
        refused = manager.submit(page, HOURS, **fields)
        assert refused.status_code == 422 and message in soup(refused).get_text()
    db.session.expire_all()
    assert db.session.get(Brand, demo.id).business_hours == {"mon": ["09:00", "18:00"]}
