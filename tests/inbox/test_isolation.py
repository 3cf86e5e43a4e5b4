"""Brand isolation: staff of brand A reach nothing of brand B, over HTTP and over WebSockets."""
import itertools
import uuid

import pytest
import requests
import simple_websocket
from bs4 import BeautifulSoup
from simple_websocket.ws import CloseReason
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from werkzeug.routing.converters import AnyConverter

from models import (
    AlertTarget,
    Brand,
    CannedReply,
    Category,
    Conversation,
    EscalationLevel,
    RoutingRule,
    StaffMember,
    Team,
    Touchpoint,
    Webhook,
    db,
)

from ..conftest import DEMO_PASSWORD
from .staff import REPLY, TRANSFER, Staff, conversation, soup, tag

SECRETS = ("Rival customer secret", "Rival private note", "Rival canned", "Kiosk Nine",
           "Rival Agent", "Rival night shift", "rival@customer.example", "Rival Shop",
           "Rival pager")
VIEWS = ("for_me", "mine", "team", "unassigned", "all")
STATUSES = ("open", "pending", "resolved")
# The brand's settings pages (canned replies, routing, webhooks...): tests/admin/test_isolation.py
EXPECTED_ENDPOINTS = {"inbox.conversation", "inbox.reply", "inbox.note", "inbox.assign_to_me",
                      "inbox.transfer", "inbox.set_status", "inbox.correct_tag",
                      "inbox.insert_canned", "inbox.test_alert_target",
                      "inbox.delete_alert_target"}


def build_rival(session, intruder_staff=None, intruder_team=None):
    """Brand B with a touchpoint, a team, staff, a canned reply and conversations with notes."""
    slug = f"rival-{uuid.uuid4().hex[:8]}"
    brand = Brand(slug=slug, name="Rival Shop",
                  categories=[Category(slug="rival-only", labels={"en": "Rival only"})])
    brand.touchpoints.append(Touchpoint(slug="kiosk-9", label="Kiosk Nine", kind="kiosk"))
    session.add(brand)
    session.flush()
    staff = StaffMember(brand_id=brand.id, email=f"agent@{slug}.example", name="Rival Agent")
    staff.set_password(DEMO_PASSWORD)
    team = Team(brand_id=brand.id, slug="night-shift", name="Rival night shift", members=[staff])
    canned = CannedReply(brand_id=brand.id, title="Rival canned", body="Rival canned body")
    session.add_all([staff, team, canned])
    session.flush()
    rule = RoutingRule(brand_id=brand.id, team_id=team.id, category="rival-only")
    pager = AlertTarget(brand_id=brand.id, staff_id=staff.id, label="Rival pager",
                        url="json://127.0.0.1:9/rival")
    hook = Webhook(brand_id=brand.id, url="https://rival.example/hook",
                   events=["conversation.created"])
    level = EscalationLevel(brand_id=brand.id, after_seconds=60, urgent_after_seconds=60,
                            target_value="manager")
    session.add_all([rule, pager, hook, level])
    session.flush()
    variants = [dict(status=s, assignee_id=staff.id, team_id=team.id, urgency="urgent")
                for s in ("open", "pending", "resolved")] + [{}]
    variants += [dict(assignee_id=i) for i in [intruder_staff] if i]
    variants += [dict(team_id=i) for i in [intruder_team] if i]
    made = []
    for columns in variants:
        convo = Conversation(brand=brand, touchpoint=brand.touchpoints[0],
                             customer_contact="rival@customer.example", **columns)
        convo.add_message("customer", f"Rival customer secret {len(made)}")
        convo.add_message("staff", "Rival private note", staff=staff, internal=True)
        made.append(convo)
    session.add_all(made)
    session.commit()
    return dict(brand=brand.id, email=staff.email, staff=staff.id, team=team.id, canned=canned.id,
                rule=rule.id, target=pager.id, webhook=hook.id, level=level.id,
                touchpoint=brand.touchpoints[0].id,
                conversations=[c.id for c in made], tokens=[c.token for c in made])



# When a session was last used is bookkeeping of the visit itself, not a change it made.
BOOKKEEPING = {"staff_session.last_seen_at"}


def everything(connection):
    """Every row of every table in key order: equal snapshots mean nothing changed."""
    return {t.name: connection.execute(
        select(*(c for c in t.columns if f"{t.name}.{c.name}" not in BOOKKEEPING))
        .order_by(*t.primary_key.columns)).all() for t in db.metadata.sorted_tables}


def id_rules(app):
    """Every (method, rule) of the inbox whose URL takes an argument such as an id (the
    set-password link takes a one-time token instead: tests/admin/test_setup.py)."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/inbox") and r.arguments
             and r.endpoint not in ("inbox.set_password", "inbox.accept_invitation")]
    return [(m, r) for r in rules for m in sorted(r.methods & {"GET", "POST"})]


def urls(rule, ids):
    """Every URL of `rule` for the ids given; an argument of a new kind fails here until added."""
    names = sorted(rule.arguments)
    choices = [sorted(c.items) if isinstance(c := rule._converters[n], AnyConverter) else ids[n]
               for n in names]
    return [rule.build(dict(zip(names, combo, strict=True)))[1]
            for combo in itertools.product(*choices)]


@pytest.fixture
def rival(app, demo):
    return build_rival(db.session)


def test_every_inbox_url_with_an_id_is_404_for_another_brands_things(app, demo, agent, rival,
                                                                    http_receiver):
    cases = id_rules(app)
    assert {rule.endpoint for _method, rule in cases} >= EXPECTED_ENDPOINTS
    ours = CannedReply(brand_id=demo.id, title="Ours", body="Our text")
    our_pager = AlertTarget(brand_id=demo.id, staff_id=agent.member.id, label="Our pager",
                            url=f"json://127.0.0.1:{http_receiver.port}/ours")
    db.session.add_all([ours, our_pager])
    db.session.commit()
    own = {"conversation_id": [conversation(demo, "Our guest").id], "target_id": [our_pager.id]}
    theirs = {"conversation_id": rival["conversations"], "target_id": [rival["target"]]}
    form = {"csrf_token": agent.token, "body": "Intruder", "note": "Intruder", "title": "Intruder",
            "target": f"staff:{agent.member.id}", "field": "sentiment", "value": "negative",
            "canned": str(ours.id), "client_id": uuid.uuid4().hex}
    before = everything(db.session)
    for method, rule in cases:
        for url in urls(rule, theirs):
            answer = agent.client.open(url, method=method, data=form if method == "POST" else None)
            assert answer.status_code == 404, (method, url, answer.status_code)
            assert not any(secret in answer.text for secret in SECRETS)
    assert everything(db.session) == before
    # The same requests for the brand's own things reach the views: those 404s were about B.
    deletes_last = {"inbox.delete_alert_target"}
    for method, rule in sorted(cases, key=lambda case: case[1].endpoint in deletes_last):
        for url in urls(rule, own):
            answer = agent.client.open(url, method=method, data=form if method == "POST" else None)
            assert answer.status_code in (200, 303, 422), (method, url, answer.status_code)
    page = Staff(app, rival["email"]).get(f"/inbox/c/{rival['conversations'][0]}")
    assert "Rival customer secret" in page.text and "Rival private note" in page.text


def refused_and_nothing_changed(agent, page, cases):
    before = everything(db.session)
    for selector, fields in cases:
        for htmx in (False, True):
            refused = agent.submit(page, selector, htmx=htmx, **fields)
            assert refused.status_code in (404, 422), fields
            assert not any(secret in refused.text for secret in SECRETS)
    assert everything(db.session) == before


def test_another_brands_canned_reply_and_category_are_refused(demo, agent, rival):
    convo = conversation(demo, "Our guest")
    page = agent.get(f"/inbox/c/{convo.id}")
    assert not any(secret in page.text for secret in SECRETS)
    refused_and_nothing_changed(agent, page, [
        (tag("category"), {"value": "rival-only"}),
        (REPLY, {"action": f"/inbox/c/{convo.id}/canned", "canned": str(rival["canned"])})])


@pytest.mark.parametrize("target", ["staff:{staff}", "team:{team}", "staff:999999", ""])
def test_transfer_to_another_brand_or_to_nobody_is_refused(demo, agent, rival, target):
    convo = conversation(demo, "Our guest")
    refused_and_nothing_changed(agent, agent.get(f"/inbox/c/{convo.id}"), [
        (TRANSFER, {"target": target.format(**rival)})])


def test_nothing_of_another_brand_shows_in_lists_or_counts(app, demo, agent):
    team = db.session.scalar(select(Team).filter_by(slug="front-desk"))
    ours = conversation(demo, "Ours, open")
    conversation(demo, "Ours, pending", status="pending", assignee_id=agent.member.id)
    conversation(demo, "Ours, resolved", status="resolved", team_id=team.id)

    def lists():
        shown, pages = {}, []
        for view, status in itertools.product(VIEWS, STATUSES):
            page = soup(agent.get(f"/inbox/?view={view}&status={status}"))
            shown[view, status] = ([r["id"] for r in page.select("li.row")],
                                   [c.get_text() for c in page.select(".count")])
            pages.append(str(page))
        return shown, pages

    before, _pages = lists()
    # B's rows include some (wrongly) pointing at A's agent and A's team: the brand still rules.
    build_rival(db.session, intruder_staff=agent.member.id, intruder_team=team.id)
    after, pages = lists()
    assert after == before
    pages += [agent.get("/inbox/?view=all", headers={"HX-Request": "true"}).text,
              agent.get("/admin/canned").text, agent.get(f"/inbox/c/{ours.id}").text]
    for page in pages:
        assert not any(secret in page for secret in SECRETS)


@pytest.fixture
def live(live_server):
    """The live server, brand B in its database, and a conversation of the demo brand."""
    engine = create_engine(live_server.env["DATABASE_URL"])
    with Session(engine) as session:
        rival = build_rival(session)
        ours = conversation(session.scalar(select(Brand).filter_by(slug="demo")),
                            "Our live guest asks", session=session)
        rival.update(ours=ours.id, our_token=ours.token)
    yield live_server, rival, engine
    engine.dispose()


def snapshot(engine):
    with engine.connect() as connection:
        return everything(connection)


def cookie_of(server, email):
    """Log in over HTTP like a browser; return the Cookie header it then sends."""
    browser = requests.Session()
    page = BeautifulSoup(browser.get(server.url + "/inbox/login").text, "html.parser")
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    logged_in = browser.post(server.url + "/inbox/login", allow_redirects=False, data={
        "csrf_token": token, "email": email, "password": DEMO_PASSWORD})
    assert logged_in.status_code == 303
    return f"session={browser.cookies['session']}"


class Client(simple_websocket.Client):
    """simple_websocket's client without its race: frames that arrive in the same packet as the
    handshake response stay in wsproto's buffer, so a close or first frame there went unseen."""

    def __init__(self, *args, **kwargs):
        try:
            super().__init__(*args, **kwargs)
        except simple_websocket.ConnectionError:  # closed during the handshake: say how
            if self.close_reason == CloseReason.NO_STATUS_RCVD:
                raise
            self.sock.close()
            raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message) from None

    def handshake(self):
        super().handshake()
        self.connected = self._handle_events()


def connect(server, path, cookie=None, **headers):
    if cookie:
        headers["Cookie"] = cookie
    return Client.connect(server.url.replace("http", "ws", 1) + path,
                                           headers=headers)


def talk(server, path, cookie=None, say=None, wait=0.5, **headers):
    """Open a socket, `say` something after the first frame; return (frames, close code)."""
    frames = []
    try:
        ws = connect(server, path, cookie, **headers)
        while (frame := ws.receive(timeout=wait)) is not None:
            frames.append(frame)
            if say is not None:
                ws.send(say)
                say = None
        ws.close()
        return frames, None
    except simple_websocket.ConnectionClosed as closed:
        return frames, closed.reason


def test_a_staff_socket_for_another_brands_conversation_is_closed_with_1008(live):
    server, rival, _engine = live
    cookie = cookie_of(server, "agent@demo.example")
    for conversation_id in [*rival["conversations"], 10**9]:
        assert talk(server, f"/inbox/ws?conversation={conversation_id}", cookie) == ([], 1008)
    frames, code = talk(server, f"/inbox/ws?conversation={rival['ours']}", cookie)
    assert code is None and 'id="after-' in frames[0] and "Our live guest asks" in frames[0]
    assert not any(secret in frame for frame in frames for secret in SECRETS)
    theirs, code = talk(server, f"/inbox/ws?conversation={rival['conversations'][0]}",
                        cookie_of(server, rival["email"]))
    assert code is None and "Rival customer secret" in theirs[0]


def test_an_inbox_socket_hears_nothing_of_another_brand(live):
    server, rival, _engine = live
    ws = connect(server, "/inbox/ws?view=all&status=open", cookie_of(server, "agent@demo.example"))
    try:
        assert 'id="inbox-counts"' in ws.receive(timeout=5)
        for token, heard in ((rival["tokens"][0], False), (rival["our_token"], True)):
            posted = requests.post(f"{server.url}/c/{token}", allow_redirects=False,
                                   data={"body": "Anyone there?", "client_id": uuid.uuid4().hex})
            assert posted.status_code == 303
            frame = ws.receive(timeout=2 if heard else 1)
            assert (frame is not None and 'id="inbox-counts"' in frame) is heard, token
    finally:
        ws.close()


def test_sockets_need_a_signed_in_same_site_browser_or_a_real_token(live):
    server, rival, _engine = live
    cookie = cookie_of(server, "agent@demo.example")
    assert talk(server, "/inbox/ws") == ([], 1008)
    assert talk(server, f"/inbox/ws?conversation={rival['ours']}") == ([], 1008)
    assert talk(server, "/inbox/ws", cookie, Origin="http://evil.example") == ([], 1008)
    token = rival["our_token"]
    for bad in ("nope", "A" * 32, token[:-1] + ("B" if token.endswith("A") else "A"), token + "x"):
        assert talk(server, f"/c/{bad}/ws") == ([], 1008), bad


@pytest.mark.parametrize("forged", ['{"action": "resolve"}', '{"action": "reply", "body": "x"}',
                                    "not json", "[1, 2]", '"HEADERS"', "{}",
                                    b'{"action": "resolve"}'])
def test_a_forged_socket_message_closes_the_socket_and_changes_nothing(live, forged):
    server, rival, engine = live
    cookie = cookie_of(server, "agent@demo.example")  # signing in starts a session: before
    # Opening the customer's socket shows them their messages (their seen stamp): before too.
    # (A client that says no hello gets the newest page, as if it held none.)
    assert talk(server, f"/c/{rival['tokens'][0]}/ws")[1] is None
    # And a staff socket's catching up puts the customer's messages on screen (seen): before.
    assert talk(server, f"/inbox/ws?conversation={rival['ours']}", cookie)[1] is None
    before = snapshot(engine)
    frames, code = talk(server, f"/c/{rival['tokens'][0]}/ws", say=forged)
    assert code == 1008 and len(frames) == 1 and "Rival customer secret" in frames[0]
    frames, code = talk(server, f"/inbox/ws?conversation={rival['ours']}", cookie, say=forged)
    assert code == 1008 and len(frames) == 1
    assert snapshot(engine) == before
