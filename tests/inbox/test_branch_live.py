"""Branch scoping in live updates: a limited person's sockets hear only of their places."""
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from app.realtime.hub import LiveSocket
from models import (
    Brand,
    RoutingRule,
    StaffMember,
    db,
)

from ..receivers import wait_for
from ..test_hub import RecordingWebSocket
from .scoping import limit, start_at
from .staff import conversation, soup
from .test_isolation import connect, cookie_of, talk

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
    time.sleep(0.2)  # the limited socket's update would have been queued with the other's
    assert limited.ws.sent == []
    start_at(client, "room-412", "Could I have more towels?")
    assert wait_for(lambda: limited.ws.sent)
    assert all('id="inbox-counts"' in frame for frame in limited.ws.sent + unlimited.ws.sent)


def test_an_open_conversation_goes_quiet_once_its_touchpoint_is_no_longer_theirs(
        app, client, demo, places, people):
    agent = people["agent"]
    limit(agent, places["room-412"])
    convo = start_at(client, "room-412", "The shower is cold")
    socket = LiveSocket.for_staff(RecordingWebSocket(), agent, conversation_id=convo.id,
                                  csrf_token="token-of-this-session")
    hub = app.extensions["kulak_hub"]
    hub.join(socket, {f"conversation:{convo.id}": "staff"})
    hub.resume(socket, 0)  # as the socket's route does for a client that says no hello
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
    """On a shared list, scoping costs a render per touchpoint set, never one per person."""
    limit(people["agent"], places["room-412"])
    limit(people["manager"], places["room-412"])
    hub, renders = app.extensions["kulak_hub"], []
    sockets = {name: LiveSocket.for_staff(RecordingWebSocket(), people[name], list_url="/x")
               for name in ("agent", "manager", "lead")}
    for socket in sockets.values():  # a list that is the same for everyone who sees it
        socket.list_view = ("all", "open")
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
            assert 'id="inbox-counts"' in ws.receive(timeout=5)  # the resync
        for place, lead_hears in (("room-412", False), ("table-7", True)):
            posted = requests.post(f"{server.url}/c/{made[place][1]}", allow_redirects=False,
                                   data={"body": "Anyone there?", "client_id": uuid.uuid4().hex})
            assert posted.status_code == 303
            assert 'id="inbox-counts"' in (sockets["agent"].receive(timeout=5) or "")
            frame = sockets["lead"].receive(timeout=2 if lead_hears else 1)
            assert (frame is not None and 'id="inbox-counts"' in frame) is lead_hears, place
    finally:
        for ws in sockets.values():
            ws.close()
