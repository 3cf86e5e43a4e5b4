"""Branch scoping: staff limited to some touchpoints see, get, and hear of only their
conversations, in lists, counts, pages, actions, routing, alerts, escalation and live updates."""
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from app.alerts.escalation import escalate, targets_of
from app.alerts.service import people_to_alert, recipients
from app.realtime.hub import LiveSocket
from app.routing.service import hand_out_waiting
from models import (
    AlertTarget,
    Brand,
    Conversation,
    Escalation,
    EscalationLevel,
    OutboxEvent,
    RoutingRule,
    StaffMember,
    Team,
    Touchpoint,
    db,
)
from models.common import utcnow

from ..receivers import wait_for
from ..test_hub import RecordingWebSocket
from .staff import TRANSFER, conversation, form_values, fresh, soup
from .test_isolation import connect, cookie_of, everything, id_rules, talk, urls

VIEWS = ("for_me", "mine", "team", "unassigned", "all")
STATUSES = ("open", "pending", "resolved")


@pytest.fixture
def places(demo):
    return {t.slug: t for t in db.session.scalars(select(Touchpoint).filter_by(brand_id=demo.id))}


@pytest.fixture
def desk(demo):
    return db.session.scalar(select(Team).filter_by(brand_id=demo.id, slug="front-desk"))


def limit(member, *touchpoints):
    """Let `member` work only `touchpoints` (the admin's staff page writes the same rows)."""
    member.touchpoints = list(touchpoints)
    db.session.commit()


def start_at(client, place, body):
    """A customer writes at `place` (a touchpoint slug); return the stored conversation."""
    page = client.get(f"/b/demo/{place}/help")
    form = soup(page).select_one("form")
    started = client.post(f"/b/demo/{place}/help", data=form_values(form) | {"body": body})
    assert started.status_code == 303, started.text
    db.session.expire_all()
    token = started.headers["Location"].rsplit("/", 1)[1]
    return db.session.scalar(select(Conversation).filter_by(token=token))


def hook(member, receiver):
    name = member.email.split("@")[0]
    db.session.add(AlertTarget(brand_id=member.brand_id, staff_id=member.id, label=name,
                               url=f"json://127.0.0.1:{receiver.port}/{name}"))
    db.session.commit()


def dispatched(kind, conversation):
    """Wait until the outbox events of `kind` about `conversation` have been fully handled."""
    def done():
        db.session.expire_all()
        stamps = db.session.scalars(select(OutboxEvent.dispatched_at).filter_by(
            kind=kind, conversation_id=conversation.id)).all()
        return stamps and all(stamps)
    assert wait_for(done), f"{kind} of conversation {conversation.id} was never dispatched"


def named(people):
    return sorted(person.email.split("@")[0] for person in people)


def alerted(receiver):
    return sorted(r["path"].lstrip("/") for r in receiver.requests)


# --- Lists, counts, the conversation page and its actions ---------------------------------

def shown(staff):
    """{(view, status): (row texts, count on the page)} for every view and status."""
    found = {}
    for status in STATUSES:
        page = soup(staff.get(f"/inbox/?view=all&status={status}"))
        counts = {a["href"].split("view=")[1].split("&")[0]: int(a.select_one(".count").text)
                  for a in page.select(".views a")}
        for view in VIEWS:
            listed = soup(staff.get(f"/inbox/?view={view}&status={status}"))
            found[view, status] = (sorted(r.select_one(".first-line").get_text(strip=True)
                                          for r in listed.select("li.row")), counts[view])
    return found


def test_lists_and_every_count_hold_only_the_persons_touchpoints(demo, agent, lead, desk,
                                                                 places, people):
    me = people["agent"]
    conversation(demo, "Room, queue", touchpoint=places["room-412"], team=desk)
    conversation(demo, "Room, mine", touchpoint=places["room-412"], team=desk, assignee=me,
                 status="pending")
    conversation(demo, "Table, queue", touchpoint=places["table-7"], team=desk)
    conversation(demo, "Table, mine", touchpoint=places["table-7"], team=desk, assignee=me,
                 status="pending")
    conversation(demo, "Table, resolved", touchpoint=places["table-7"], status="resolved")
    conversation(demo, "No place", touchpoint=None, team=desk)
    everyone = shown(agent)
    limit(me, places["room-412"])
    scoped = shown(agent)
    for key, (rows, count) in scoped.items():
        assert count == len(rows), key
        assert rows == [r for r in everyone[key][0] if r.startswith("Room")], key
    assert scoped["for_me", "open"][0] == ["Room, queue"]
    assert scoped["mine", "pending"][0] == ["Room, mine"]  # their own at the table is hidden
    assert scoped["all", "resolved"] == ([], 0)
    # Unlimited staff still see everything, the conversation without a place included.
    assert shown(lead)["all", "open"] == (["No place", "Room, queue", "Table, queue"], 3)


def test_every_conversation_url_is_404_for_another_touchpoints_conversation(
        app, demo, agent, places, people):
    limit(people["agent"], places["room-412"])
    theirs = [conversation(demo, "Table secret", touchpoint=places["table-7"]).id,
              conversation(demo, "Placeless secret", touchpoint=None).id]
    mine = conversation(demo, "Room guest", touchpoint=places["room-412"])
    cases = [(m, r) for m, r in id_rules(app) if "conversation_id" in r.arguments]
    assert {r.endpoint for _m, r in cases} >= {"inbox.conversation", "inbox.reply",
                                               "inbox.note", "inbox.transfer",
                                               "inbox.set_status", "inbox.correct_tag"}
    form = {"csrf_token": agent.token, "body": "Intruder", "note": "Intruder",
            "target": f"staff:{people['agent'].id}", "field": "sentiment", "value": "negative",
            "client_id": uuid.uuid4().hex}
    before = everything(db.session)
    for method, rule in cases:
        for url in urls(rule, {"conversation_id": theirs}):
            answer = agent.client.open(url, method=method, data=form if method == "POST" else None)
            assert answer.status_code == 404, (method, url, answer.status_code)
            assert "secret" not in answer.text
    assert everything(db.session) == before
    assert agent.get(f"/inbox/c/{mine.id}").status_code == 200  # their own place's opens


def test_transfer_offers_and_accepts_only_teammates_who_see_the_conversation(
        demo, lead, places, people):
    limit(people["manager"], places["table-7"])
    limit(people["agent"], places["room-412"], places["table-7"])
    convo = conversation(demo, "Room guest", touchpoint=places["room-412"])
    page = lead.get(f"/inbox/c/{convo.id}")
    offered = [o.get_text() for o in soup(page).select("#target option")]
    assert "Ayşe Demir" in offered and "Mehmet Kaya" in offered and "Deniz Aksoy" in offered
    assert "Elif Yılmaz" not in offered  # the manager works only at table 7
    refused = lead.submit(page, TRANSFER, target=f"staff:{people['manager'].id}")
    assert refused.status_code == 422
    assert fresh(convo).assignee_id is None
    assert lead.submit(page, TRANSFER, target=f"staff:{people['agent'].id}").status_code == 303
    assert fresh(convo).assignee_id == people["agent"].id


# --- Routing -------------------------------------------------------------------------------

def test_routing_gives_a_conversation_only_to_someone_who_works_at_its_touchpoint(
        client, demo, places, people, online):
    agent, lead = people["agent"], people["lead"]
    limit(agent, places["table-7"])
    online(agent)
    online(lead)
    conversation(demo, "Keeps the lead busy", assignee=lead, status="pending")
    # The agent is less busy, but works only at table 7.
    assert start_at(client, "room-412", "Could I have more towels?").assignee_id == lead.id
    assert start_at(client, "table-7", "Could we have the menu?").assignee_id == agent.id


def test_coming_online_hands_out_only_what_the_person_may_see(client, demo, places, people,
                                                            online):
    agent, lead = people["agent"], people["lead"]
    limit(agent, places["table-7"])
    waiting = start_at(client, "room-412", "The shower has no hot water")
    assert waiting.assignee_id is None
    online(agent)
    assert hand_out_waiting(agent) == 0
    assert fresh(waiting).assignee_id is None
    online(lead)
    assert hand_out_waiting(lead) == 1
    assert fresh(waiting).assignee_id == lead.id


# --- Alerts and escalation -----------------------------------------------------------------

NEGATIVE_URGENT = "There is water pouring from the ceiling onto the bed, this is terrible"


def test_alerts_reach_only_staff_who_see_the_conversation(client, demo, places, people,
                                                          http_receiver):
    agent, lead = people["agent"], people["lead"]
    limit(agent, places["table-7"])
    hook(agent, http_receiver)
    hook(lead, http_receiver)
    convo = start_at(client, "room-412", NEGATIVE_URGENT)  # nobody online: the team hears
    dispatched("conversation.created", convo)
    assert alerted(http_receiver) == ["lead"]
    http_receiver.requests.clear()
    at_table = start_at(client, "table-7", NEGATIVE_URGENT)
    dispatched("conversation.created", at_table)
    assert alerted(http_receiver) == ["agent", "lead"]


def test_leads_of_a_conversation_without_a_team_are_only_those_who_see_it(demo, places,
                                                                          people):
    limit(people["manager"], places["table-7"])
    convo = conversation(demo, "Smoke in the corridor", touchpoint=places["room-412"],
                         urgency="urgent")
    assert named(recipients(convo)) == ["lead"]
    placeless = conversation(demo, "Smoke on the website", touchpoint=None, urgency="urgent")
    assert named(recipients(placeless)) == ["lead"]
    event = OutboxEvent(brand_id=demo.id, conversation=convo, kind="conversation.escalated",
                        payload={"staff_ids": [people["manager"].id, people["lead"].id]})
    assert named(people_to_alert(event)) == ["lead"]


def test_escalation_targets_by_role_team_and_person_drop_those_who_cannot_see_it(
        demo, desk, places, people):
    agent, manager = people["agent"], people["manager"]
    limit(agent, places["table-7"])
    limit(manager, places["table-7"])
    convo = conversation(demo, "Nobody came", touchpoint=places["room-412"], team=desk)

    def names(kind, value):
        level = EscalationLevel(brand_id=demo.id, after_seconds=1, urgent_after_seconds=1,
                                target_kind=kind, target_value=value)
        return named(targets_of(level, convo))
    assert names("role", "manager") == []
    assert names("role", "lead") == ["lead"]
    assert names("team", str(desk.id)) == ["lead"]
    assert names("staff", str(agent.id)) == []
    table = conversation(demo, "Nobody came", touchpoint=places["table-7"], team=desk)
    level = EscalationLevel(brand_id=demo.id, after_seconds=1, urgent_after_seconds=1,
                            target_kind="role", target_value="manager")
    assert named(targets_of(level, table)) == ["manager"]


def test_an_escalation_reassigns_and_alerts_only_someone_who_sees_it(client, demo, places,
                                                                     people, http_receiver):
    manager, admin = people["manager"], people["admin"]
    limit(manager, places["table-7"])
    db.session.execute(delete(EscalationLevel).filter_by(brand_id=demo.id))
    db.session.add_all([
        EscalationLevel(brand_id=demo.id, position=0, after_seconds=600,
                        urgent_after_seconds=600, action="reassign", target_kind="staff",
                        target_value=str(manager.id)),
        EscalationLevel(brand_id=demo.id, position=1, after_seconds=600,
                        urgent_after_seconds=600, action="reassign", target_kind="role",
                        target_value="admin")])
    db.session.commit()
    hook(manager, http_receiver)
    hook(admin, http_receiver)
    convo = start_at(client, "room-412", "Could we have an extra blanket?")
    first, second = db.session.scalars(select(Escalation).filter_by(
        conversation_id=convo.id).order_by(Escalation.due_at)).all()
    for escalation in (first, second):
        escalation.due_at = utcnow()
        db.session.commit()
        assert escalate(escalation.id) == "fired"
    assert fresh(convo).assignee_id == admin.id  # the manager was never given it
    dispatched("conversation.escalated", convo)
    assert wait_for(lambda: alerted(http_receiver) == ["admin"])
    time.sleep(0.2)  # a wrong alert to the manager would have come with the admin's
    assert alerted(http_receiver) == ["admin"]


# --- Live updates ---------------------------------------------------------------------------

@pytest.fixture
def inbox_socket(app):
    """Open an inbox socket (brand channel) the way the staff socket builds one."""
    hub, sockets = app.extensions["kulak_hub"], []

    def open_socket(member):
        socket = LiveSocket.for_staff(RecordingWebSocket(), member, list_url="/inbox/")
        hub.join(socket, {f"brand:{member.brand_id}": "inbox"})
        sockets.append(socket)
        return socket
    yield open_socket
    for socket in sockets:
        hub.leave(socket)


def test_a_limited_persons_socket_hears_only_of_their_touchpoints(client, demo, places,
                                                                  people, inbox_socket):
    db.session.execute(delete(RoutingRule))  # nobody is assigned: no hand-out events either
    db.session.commit()
    limit(people["agent"], places["room-412"])
    limited, unlimited = inbox_socket(people["agent"]), inbox_socket(people["lead"])
    start_at(client, "table-7", "Could we have the menu?")
    assert wait_for(lambda: unlimited.ws.sent)
    time.sleep(0.2)  # the limited socket's poke would have been queued with the other's
    assert limited.ws.sent == []
    start_at(client, "room-412", "Could I have more towels?")
    assert wait_for(lambda: limited.ws.sent)
    assert all('id="inbox-poke"' in frame for frame in limited.ws.sent + unlimited.ws.sent)


def test_an_open_conversation_goes_quiet_once_its_touchpoint_is_no_longer_theirs(
        app, client, demo, places, people):
    agent = people["agent"]
    limit(agent, places["room-412"])
    convo = start_at(client, "room-412", "The shower is cold")
    socket = LiveSocket.for_staff(RecordingWebSocket(), agent, conversation_id=convo.id,
                                  csrf_token="token-of-this-session")
    hub = app.extensions["kulak_hub"]
    hub.join(socket, {f"conversation:{convo.id}": "staff"})
    try:
        def post(body):
            posted = client.post(f"/c/{convo.token}", data={"body": body, "lang": "en"})
            assert posted.status_code == 303
        post("Still cold")
        assert wait_for(lambda: any("Still cold" in frame for frame in socket.ws.sent))
        limit(agent, places["table-7"])  # moved to the restaurant while the page is open
        post("Colder than ever")
        time.sleep(0.5)
        assert not any("Colder than ever" in frame for frame in socket.ws.sent)
    finally:
        hub.leave(socket)


def test_sockets_of_one_touchpoint_set_share_one_render(app, demo, places, people):
    """Scoping costs a render per touchpoint set on the list, never one per person."""
    limit(people["agent"], places["room-412"])
    limit(people["manager"], places["room-412"])
    hub, renders = app.extensions["kulak_hub"], []
    sockets = {name: LiveSocket.for_staff(RecordingWebSocket(), people[name], list_url="/x")
               for name in ("agent", "manager", "lead")}
    real_render = hub.render
    hub.render = lambda event, audience, socket: renders.append(socket.touchpoints) or "<p/>"
    try:
        for socket in sockets.values():
            hub.join(socket, {f"brand:{demo.id}": "inbox"})
        for place in ("table-7", "room-412"):
            hub.deliver_now((f"brand:{demo.id}",), {
                "type": "conversation", "conversation_id": 1, "touchpoint_id": places[place].id})
        room = frozenset([places["room-412"].id])
        assert sorted(renders, key=str) == sorted([None, None, room], key=str)
        assert wait_for(lambda: [len(s.ws.sent) for s in sockets.values()] == [1, 1, 2])
    finally:
        hub.render = real_render
        for socket in sockets.values():
            hub.leave(socket)


def test_the_pages_socket_speaks_the_language_the_page_shows(demo, agent, places):
    agent.member.language = "tr"
    db.session.commit()
    convo = conversation(demo, "Room guest", touchpoint=places["room-412"])
    for url, expected in (("/inbox/", "tr"), (f"/inbox/c/{convo.id}", "tr"),
                          (f"/inbox/c/{convo.id}?lang=en", "en")):
        connect_to = soup(agent.get(url, headers={"Accept-Language": "en"})).select_one(
            "[ws-connect]")["ws-connect"]
        assert f"lang={expected}" in connect_to, url


# --- Over a real server: the socket handshake and what its sockets hear -------------------

@pytest.fixture
def limited_lead(live_server):
    """The live server with its lead limited to table 7 and speaking Turkish (undone after),
    and a conversation at room 412 and one at table 7: {place: (id, token)}."""
    engine = create_engine(live_server.env["DATABASE_URL"])
    with Session(engine) as session:
        brand = session.scalar(select(Brand).filter_by(slug="demo"))
        lead = session.scalar(select(StaffMember).filter_by(email="lead@demo.example"))
        at = {t.slug: t for t in brand.touchpoints}
        lead.touchpoints, lead.language = [at["table-7"]], "tr"
        made = {place: conversation(brand, f"Live guest at {place}", session=session,
                                    touchpoint=at[place]) for place in ("room-412", "table-7")}
        yield live_server, {place: (c.id, c.token) for place, c in made.items()}
        lead.touchpoints, lead.language = [], None
        session.commit()
    engine.dispose()


def test_a_limited_persons_sockets_over_a_real_server(limited_lead):
    server, made = limited_lead
    lead, agent = (cookie_of(server, f"{name}@demo.example") for name in ("lead", "agent"))
    assert talk(server, f"/inbox/ws?conversation={made['room-412'][0]}", lead) == ([], 1008)
    table = f"/inbox/ws?conversation={made['table-7'][0]}"
    frames, code = talk(server, table, lead, **{"Accept-Language": "en"})
    assert code is None and "Live guest at table-7" in frames[0]
    assert "Bana ata" in frames[0]  # the lead's own language, as their pages show it
    frames, code = talk(server, f"{table}&lang=en", lead)  # a page switched to English
    assert code is None and "Assign to me" in frames[0]
    sockets = {name: connect(server, "/inbox/ws?view=all&status=open", cookie)
               for name, cookie in (("lead", lead), ("agent", agent))}
    try:
        for ws in sockets.values():
            assert 'id="inbox-poke"' in ws.receive(timeout=5)  # the resync
        for place, lead_hears in (("room-412", False), ("table-7", True)):
            posted = requests.post(f"{server.url}/c/{made[place][1]}", allow_redirects=False,
                                   data={"body": "Anyone there?", "client_id": uuid.uuid4().hex})
            assert posted.status_code == 303
            assert 'id="inbox-poke"' in (sockets["agent"].receive(timeout=5) or "")
            frame = sockets["lead"].receive(timeout=2 if lead_hears else 1)
            assert (frame is not None and 'id="inbox-poke"' in frame) is lead_hears, place
    finally:
        for ws in sockets.values():
            ws.close()
