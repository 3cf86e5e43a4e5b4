"""The staff page: who works for the brand; roles up to one's own, teams and places,
deactivation that signs a person out at once and hands their conversations on."""
import pytest
from sqlalchemy import select, update

from app import events
from app.admin import invites, people
from app.admin.problems import SetupProblem
from app.realtime.hub import LiveSocket
from models import Conversation, Invitation, OutgoingMail, StaffMember, Team, Touchpoint, db
from models.common import utcnow

from ..inbox.staff import Staff, conversation, fresh, login, soup
from ..test_hub import RecordingWebSocket

STAFF, INVITE = "/admin/staff", "#invite-form"


def member(email):
    db.session.expire_all()
    return db.session.scalar(select(StaffMember).filter_by(email=email))


def errors(page):
    return [p.get_text(" ", strip=True) for p in soup(page).select(".error")]


def row(page, selector):
    found = soup(page).select_one(selector)
    assert found is not None, f"no {selector} on the page"
    return found


def cell(page, staff, name):
    return row(page, f"#staff-{staff.id} td.{name}").get_text(" ", strip=True)


def invite(admin, emails, role="agent", **fields):
    """Send the invite form of the staff page as a person fills it."""
    return admin.submit(admin.get(STAFF), INVITE, emails=emails, role=role, **fields)


def act(admin, staff, action, **fields):
    """Press a button (or send a form) of `staff`'s row on the staff page."""
    return admin.submit(admin.get(STAFF), f'#staff-{staff.id} form[action$="/{action}"]',
                        **fields)


def invitations():
    db.session.expire_all()
    return db.session.execute(select(Invitation.email, Invitation.role, Invitation.team_ids,
                                     Invitation.touchpoint_ids, Invitation.revoked_at,
                                     Invitation.accepted_at).order_by(Invitation.id)).all()


def staff_rows():
    db.session.expire_all()
    return db.session.execute(select(StaffMember.email, StaffMember.role, StaffMember.active,
                                     StaffMember.session_epoch).order_by(StaffMember.id)).all()


def front_desk(brand):
    return db.session.scalar(select(Team).filter_by(brand_id=brand.id, slug="front-desk"))


def place(brand, slug):
    return db.session.scalar(select(Touchpoint).filter_by(brand_id=brand.id, slug=slug))


@pytest.fixture
def manager(app, demo):
    return Staff(app, "manager@demo.example")


@pytest.fixture
def online(app):
    """Open an inbox socket for a member of staff (they are online); close them all after."""
    hub, sockets = app.extensions["kulak_hub"], []

    def open_inbox(person):
        socket = LiveSocket(RecordingWebSocket(), person.brand_id, staff_id=person.id,
                            list_url="/inbox/")
        hub.join(socket, {f"brand:{person.brand_id}": "inbox"})
        sockets.append(socket)
    yield open_inbox
    for socket in sockets:
        hub.leave(socket)


def test_the_page_lists_staff_and_pending_invitations(admin, demo):
    agent = member("agent@demo.example")
    agent.touchpoints = [place(demo, "room-412")]
    db.session.commit()
    assert invite(admin, "guest.relations@demo.example", role="lead").status_code == 200
    pending = db.session.scalar(select(Invitation))
    mail = OutgoingMail(brand_id=demo.id, purpose="invitation", subject="s", text="t",
                        to_address=pending.email, status="failed",
                        last_error="The mail server refused the address.")
    db.session.add(mail)
    db.session.flush()
    pending.mail_id = mail.id
    db.session.commit()
    page = admin.get(STAFF)
    assert page.status_code == 200
    assert cell(page, agent, "role") == "Agent" and cell(page, agent, "teams") == "Front desk"
    assert cell(page, agent, "places") == "Room 412" and cell(page, agent, "state") == "Active"
    assert cell(page, member("manager@demo.example"), "places") == "Every place"
    assert "agent@demo.example" in row(page, f"#staff-{agent.id}").get_text()
    shown = row(page, f"#invitation-{pending.id}").get_text(" ", strip=True)
    local = demo.local(pending.expires_at).strftime("%Y-%m-%d %H:%M")
    assert "guest.relations@demo.example" in shown and "Team lead" in shown and local in shown
    assert "Failed: The mail server refused the address." in shown
    mail.status, mail.last_error = "sent", None
    db.session.commit()
    assert "Mailed" in row(admin.get(STAFF), f"#invitation-{pending.id}").get_text()


def test_several_people_are_invited_at_once_with_a_role_teams_and_places(admin, demo):
    desk, room = front_desk(demo), place(demo, "room-412")
    typed = "Ayla <Ayla@Demo.example>, bora@demo.example\n\ncem@demo.example;bora@demo.example"
    page = invite(admin, typed, role="lead", teams=[desk.id], touchpoints=[room.id])
    assert page.status_code == 200, errors(page)
    assert invitations() == [(address, "lead", [desk.id], [room.id], None, None) for address in
                             ("ayla@demo.example", "bora@demo.example", "cem@demo.example")]
    links = [i["value"] for i in soup(page).select("#invite-links input.invite-link")]
    assert len(links) == 3 and page.headers["Cache-Control"] == "no-store"
    # Only the hash is kept: no column of any invitation holds a link's token.
    stored = " ".join(str(v) for v in db.session.execute(select(Invitation.__table__)).all())
    assert not any(link.rsplit("/", 1)[1] in stored for link in links)


def test_an_address_on_staff_of_any_brand_is_refused_without_naming_the_brand(
        admin, demo, other_brand):
    before = invitations()
    page = invite(admin, "owner@other.example, agent@demo.example")
    assert page.status_code == 422
    assert errors(page) == [
        "owner@other.example already has a Kulak account; an address can belong to one "
        "account only.", "agent@demo.example is already on your staff."]
    assert "Other Hotel" not in page.text and "other-hotel" not in page.text
    assert soup(page).select_one("#emails").get_text() == \
        "owner@other.example, agent@demo.example"
    assert invitations() == before


def test_an_address_invited_already_is_offered_a_resend_instead(admin, demo):
    assert invite(admin, "new@demo.example").status_code == 200
    pending = db.session.scalar(select(Invitation))
    page = invite(admin, "other@demo.example\nnew@demo.example")
    assert page.status_code == 422
    assert errors(page) == ["new@demo.example is invited already: resend that invitation "
                            "instead."]
    offer = row(page, "#resend-instead form")
    assert offer["action"] == f"/admin/invitations/{pending.id}/resend"
    assert offer.button.get_text() == "Resend to new@demo.example"
    assert [i.email for i in invitations()] == ["new@demo.example"]
    again = admin.submit(page, "#resend-instead form")
    assert again.status_code == 200 and soup(again).select("#invite-links input")


@pytest.mark.parametrize("typed, message", [
    ("not-an-address", "“not-an-address” does not look like an email address."),
    ("a@b.example c@d.example", "“a@b.example c@d.example” does not look like an email "
                                "address."),
    ("a(b)@demo.example", "“a(b)@demo.example” does not look like an email address."),
    ("x" * 250 + "@demo.example", "“" + "x" * 60 + "…” is too long for an email address (at "
                                  "most 254 characters)."),
    (", ".join(f"p{n}@demo.example" for n in range(21)),
     "Please invite at most 20 people at a time (there are 21)."),
    ("  \n ", "Please enter at least one email address."),
    (";;,", "Please enter at least one email address."),
    ("a@demo.example," * 400, "Please use at most 5120 characters (it has 6000)."),
])
def test_bad_addresses_are_refused_with_a_reason_and_nothing_is_invited(
        admin, demo, typed, message):
    page = invite(admin, typed)
    assert page.status_code == 422
    assert message in errors(page)
    assert soup(page).select_one("#emails")["aria-invalid"] == "true"
    assert invitations() == []


def test_roles_one_may_not_give_are_neither_offered_nor_accepted(manager, demo):
    page = manager.get(STAFF)
    assert [o["value"] for o in soup(page).select("#role option")] == ["agent", "lead"]
    for role in ("admin", "manager", "wizard"):
        refused = invite(manager, "boss@demo.example", role=role)
        assert refused.status_code == 422
        assert errors(refused) == ["Please choose one of the roles you may give."]
    assert invitations() == []
    assert invite(manager, "lead2@demo.example", role="lead").status_code == 200
    assert invitations()[0].role == "lead"
    # The CLI and the API meet the same ceiling in the domain operation.
    with pytest.raises(SetupProblem, match="You cannot give the role Manager: you may give "
                                           "Agent, Team lead."):
        invites.invite(member("manager@demo.example"), ["boss@demo.example"], "manager")


def test_another_brands_teams_and_places_are_refused_on_the_form(admin, demo, other_brand):
    brand, _owner, _token = other_brand
    their_team = db.session.scalar(select(Team.id).filter_by(brand_id=brand.id))
    their_place = db.session.scalar(select(Touchpoint.id).filter_by(brand_id=brand.id))
    page = invite(admin, "new@demo.example", teams=[their_team])
    assert page.status_code == 422 and "Please choose among your brand's teams." in errors(page)
    page = invite(admin, "new@demo.example", touchpoints=[their_place])
    assert page.status_code == 422 and "Please choose among your brand's places." in errors(page)
    agent = member("agent@demo.example")
    page = act(admin, agent, "access", teams=[their_team])
    assert page.status_code == 422 and "Please choose among your brand's teams." in errors(page)
    assert row(page, f"#staff-{agent.id} details").has_attr("open")
    assert invitations() == [] and [t.slug for t in member("agent@demo.example").teams] == \
        ["front-desk"]


def test_another_brands_staff_and_invitations_are_not_found(app, admin, demo, other_brand):
    brand, owner, _token = other_brand
    with app.test_request_context():
        theirs = invites.invite(owner, ["x@other.example"], "agent")[0].invitation
    before, token = (staff_rows(), invitations()), admin.token
    for action in ("role", "access", "deactivate", "reactivate"):
        answer = admin.client.post(f"/admin/staff/{owner.id}/{action}",
                                   data={"csrf_token": token, "role": "agent"})
        assert answer.status_code == 404, action
    for action in ("resend", "revoke"):
        answer = admin.client.post(f"/admin/invitations/{theirs.id}/{action}",
                                   data={"csrf_token": token})
        assert answer.status_code == 404, action
    assert (staff_rows(), invitations()) == before


def test_a_manager_changes_agents_and_leads_only(manager, demo):
    agent, boss = member("agent@demo.example"), member("admin@demo.example")
    page = manager.get(STAFF)
    for person in (boss, member("manager@demo.example")):  # an admin, and oneself
        assert row(page, f"#staff-{person.id}").select("form") == []
    assert "You may not give the role Admin, so you cannot change them." in \
        row(page, f"#staff-{boss.id}").get_text()
    refused = manager.client.post(f"/admin/staff/{boss.id}/role",
                                  data={"csrf_token": manager.token, "role": "agent"})
    assert refused.status_code == 422
    assert errors(refused) == ["You cannot change Deniz Aksoy, who is Admin: you may change "
                               "only people who are Agent, Team lead."]
    for target, status in ((boss, 422), (agent, 303)):
        answer = manager.client.post(f"/admin/staff/{target.id}/deactivate",
                                     data={"csrf_token": manager.token})
        assert answer.status_code == status
    assert member("admin@demo.example").active and not member("agent@demo.example").active
    lead = member("lead@demo.example")
    for role in ("admin", "manager"):
        assert act(manager, lead, "role", role=role).status_code == 422
    changed = act(manager, lead, "role", role="agent")
    assert changed.status_code == 303
    assert "The role of Mehmet Kaya is changed." in manager.get(STAFF).text
    assert member("lead@demo.example").role == "agent"


def test_an_admin_gives_any_role(admin, demo):
    lead = member("lead@demo.example")
    assert [o["value"] for o in row(admin.get(STAFF), f"#role-{lead.id}").select("option")] == \
        ["agent", "lead", "manager", "admin"]
    assert act(admin, lead, "role", role="admin").status_code == 303
    assert member("lead@demo.example").role == "admin"


def test_the_last_active_admin_cannot_be_demoted(admin, demo):
    boss = member("admin@demo.example")
    refused = act(admin, boss, "role", role="manager")
    assert refused.status_code == 422
    assert errors(refused) == ["Deniz Aksoy is the brand's last active admin: make someone "
                               "else admin first."]
    assert member("admin@demo.example").role == "admin"
    # A deactivated admin does not count; an active one does.
    other = member("manager@demo.example")
    other.role, other.active = "admin", False
    db.session.commit()
    assert act(admin, boss, "role", role="manager").status_code == 422
    other = member("manager@demo.example")
    other.active = True
    db.session.commit()
    assert act(admin, boss, "role", role="manager").status_code == 303
    assert member("admin@demo.example").role == "manager"


def test_teams_and_places_of_a_member_are_set(admin, demo):
    kitchen = Team(brand_id=demo.id, slug="kitchen", name="Kitchen")
    db.session.add(kitchen)
    db.session.commit()
    agent, room, table = member("agent@demo.example"), place(demo, "room-412"), \
        place(demo, "table-7")
    done = act(admin, agent, "access", teams=[kitchen.id], touchpoints=[room.id, table.id])
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#staff-{agent.id}")
    agent = member("agent@demo.example")
    assert [t.name for t in agent.teams] == ["Kitchen"]
    assert agent.touchpoint_ids == [room.id, table.id]
    page = admin.get(STAFF)
    assert cell(page, agent, "places") == "Room 412, Table 7"
    assert act(admin, agent, "access", teams=None, touchpoints=None).status_code == 303
    agent = member("agent@demo.example")
    assert agent.teams == [] and agent.touchpoint_ids is None  # none: every place


def test_one_cannot_deactivate_oneself(admin, demo):
    boss = member("admin@demo.example")
    assert row(admin.get(STAFF), f"#staff-{boss.id}").select('form[action$="/deactivate"]') \
        == []
    refused = admin.client.post(f"/admin/staff/{boss.id}/deactivate",
                                data={"csrf_token": admin.token})
    assert refused.status_code == 422
    assert errors(refused) == ["You cannot deactivate yourself: ask another manager or admin."]
    assert member("admin@demo.example").active


def test_the_last_active_admin_is_kept_when_two_admins_act_at_once(app, demo):
    first, second = member("admin@demo.example"), member("manager@demo.example")
    second.role = "admin"
    db.session.commit()
    # `first` deactivates `second` in another request, which commits first; `second`'s own
    # request, loaded before that, now deactivates `first`: the count is made again, and holds.
    with db.engine.begin() as connection:
        connection.execute(update(StaffMember).where(StaffMember.id == second.id)
                           .values(active=False))
    assert second.active  # what `second`'s request read
    with pytest.raises(SetupProblem, match="Deniz Aksoy is the brand's last active admin"):
        people.deactivate(second, first)
    assert member("admin@demo.example").active


def test_deactivation_signs_out_at_once_unassigns_and_hands_on(app, admin, demo, online):
    agent = Staff(app, "agent@demo.example")
    assert agent.get("/inbox/").status_code == 200
    person, desk, lead = agent.member, front_desk(demo), member("lead@demo.example")
    waiting = conversation(demo, "Towels, please", assignee=person, team=desk)
    pending = conversation(demo, "Answered, waits for the guest", assignee=person, team=desk,
                           status="pending")
    resolved = conversation(demo, "Done", assignee=person, team=desk, status="resolved")
    online(lead)
    ended = []

    def record(staff, **_):
        ended.append(staff)
    events.staff_sessions_ended.connect(record)
    try:
        done = act(admin, person, "deactivate")
    finally:
        events.staff_sessions_ended.disconnect(record)
    assert done.status_code == 303
    assert "Ayşe Demir is deactivated" in admin.get(STAFF).text
    assert [s.id for s in ended] == [person.id]
    # The session they still hold is over on its very next request.
    page = agent.get("/inbox/")
    assert page.status_code == 302 and "/inbox/login" in page.headers["Location"]
    assert login(app.test_client(), "agent@demo.example").status_code == 422
    # What was theirs went back to the team's queue, and on to the lead who is online.
    assert (fresh(waiting).assignee_id, fresh(waiting).team_id) == (lead.id, desk.id)
    assert (fresh(pending).assignee_id, fresh(pending).team_id) == (None, desk.id)
    assert fresh(resolved).assignee_id == person.id
    gone = member("agent@demo.example")
    assert not gone.active and gone.deactivated_at <= utcnow() and gone.session_epoch == 1
    page = admin.get(STAFF)
    assert cell(page, gone, "state").startswith("Deactivated")
    assert act(admin, gone, "reactivate").status_code == 303
    assert member("agent@demo.example").active
    assert login(app.test_client(), "agent@demo.example").status_code == 303
    assert agent.get("/inbox/").status_code == 302  # the old session stays ended


def test_deactivation_with_nobody_online_leaves_them_in_the_queue(admin, demo):
    person, desk = member("agent@demo.example"), front_desk(demo)
    waiting = conversation(demo, "The lamp is broken", assignee=person, team=desk)
    assert act(admin, person, "deactivate").status_code == 303
    assert (fresh(waiting).assignee_id, fresh(waiting).team_id) == (None, desk.id)
    notes = [m.body for m in fresh(waiting).messages if m.internal]
    assert notes == ["Ayşe Demir was deactivated: this conversation waits for someone else."]
    assert db.session.scalar(select(Conversation.status).filter_by(id=waiting.id)) == "open"


def test_only_managers_and_admins_see_the_staff_page(app, demo, manager):
    for email in ("agent@demo.example", "lead@demo.example"):
        person = Staff(app, email)
        assert person.get(STAFF).status_code == 403
        assert person.client.post(f"{STAFF}/invite", data={
            "csrf_token": person.token, "emails": "x@demo.example", "role": "agent"}
        ).status_code == 403
    assert manager.get(STAFF).status_code == 200
    assert invitations() == []
    assert app.test_client().get(STAFF).status_code == 302  # signed out: the login page


def test_every_form_needs_its_csrf_token(admin, demo):
    agent, before = member("agent@demo.example"), staff_rows()
    for url in (f"{STAFF}/invite", f"{STAFF}/{agent.id}/role", f"{STAFF}/{agent.id}/deactivate"):
        answer = admin.client.post(url, data={"emails": "x@demo.example", "role": "lead"})
        assert answer.status_code == 400, url
    assert staff_rows() == before and invitations() == []
