"""The staff inbox driven through HTTP as a person uses it, script off unless htmx is named."""
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from sqlalchemy import select

from app.config import Config
from models import CannedReply, Conversation, TagCorrection, Team, db
from models.common import utcnow

from .staff import (
    ASSIGN,
    NOTE,
    REOPEN,
    REPLY,
    RESOLVE,
    TRANSFER,
    Staff,
    conversation,
    customer_journey,
    fresh,
    login,
    option,
    soup,
    tag,
)


def test_login_refuses_a_wrong_password_and_sets_a_safe_session_cookie(app, demo):
    client = app.test_client()
    wrong = login(client, "agent@demo.example", "not-the-password")
    assert wrong.status_code == 422
    assert "That email and password do not match an account." in wrong.text
    good = login(client, "agent@demo.example")
    assert (good.status_code, good.headers["Location"]) == (303, "/inbox/")
    cookie = next(c for c in good.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert Config({"KULAK_PUBLIC_URL": "https://k.test", "SECRET_KEY": "x"}).SESSION_COOKIE_SECURE
    assert "Ayşe Demir" in client.get("/inbox/").text


@pytest.mark.parametrize("target", ["https://evil.example/inbox/", "//evil.example/",
                                    "/\\evil.example", "javascript:alert(1)", "http:/evil.example"])
def test_the_inbox_asks_for_login_and_never_redirects_off_site(app, demo, target):
    client = app.test_client()
    asked = client.get("/inbox/?view=all")
    where = urlsplit(asked.headers["Location"])
    assert (asked.status_code, where.path) == (302, "/inbox/login")
    assert parse_qs(where.query)["next"] == ["/inbox/?view=all"]
    followed = login(client, "agent@demo.example", next_url="/admin/canned")
    assert followed.headers["Location"] == "/admin/canned"
    moved = login(app.test_client(), "agent@demo.example", next_url=target)
    assert moved.status_code == 303
    assert urlsplit(urljoin("http://localhost/", moved.headers["Location"])).netloc == "localhost"


def test_logout_is_a_post_with_a_csrf_token(agent):
    assert agent.get("/inbox/logout").status_code == 405
    assert agent.client.post("/inbox/logout").status_code == 400
    assert agent.get("/inbox/").status_code == 200
    out = agent.submit(agent.get("/inbox/"), 'form[action="/inbox/logout"]')
    assert (out.status_code, out.headers["Location"]) == (303, "/inbox/login")
    assert agent.get("/inbox/").status_code == 302


def test_customer_pages_still_set_no_cookie(app, demo):
    customer = app.test_client()
    token = customer_journey(customer, "Is the pool open?", name="Deniz")
    customer.post(f"/c/{token}", data={"body": "Hello?", "client_id": uuid.uuid4().hex})
    for path in ("/b/demo/room-412", f"/c/{token}", f"/c/{token}/messages", f"/c/{token}/frame"):
        assert customer.get(path).headers.getlist("Set-Cookie") == []
    assert customer.get_cookie("session") is None


@pytest.mark.parametrize("role, sees", [
    ("lead", {"mine", "team", "loose", "team_pending"}),
    ("manager", {"mine", "team", "loose", "team_pending", "manager", "other_team"})])
def test_leads_see_their_teams_and_managers_everything(app, demo, people, role, sees):
    team = db.session.scalar(select(Team).filter_by(slug="front-desk"))
    other = Team(brand_id=demo.id, slug="kitchen", name="Kitchen")
    db.session.add(other)
    db.session.commit()
    me, lead, manager = people["agent"].id, people["lead"].id, people["manager"].id
    made = {"mine": conversation(demo, assignee_id=me, team_id=team.id),
            "team": conversation(demo, team_id=team.id), "loose": conversation(demo),
            "team_pending": conversation(demo, assignee_id=lead, team_id=team.id),
            "manager": conversation(demo, assignee_id=manager),
            "other_team": conversation(demo, team_id=other.id)}
    viewer = Staff(app, f"{role}@demo.example")
    rows = {r["id"] for r in soup(viewer.get("/inbox/?view=all&status=open")).select("li.row")}
    assert rows == {f"row-{made[name].id}" for name in sees}
    hidden = set(made) - sees
    for name in hidden:
        assert viewer.get(f"/inbox/c/{made[name].id}").status_code == 404


def test_filters_show_the_right_conversations_with_counts(demo, agent, people):
    team = db.session.scalar(select(Team).filter_by(slug="front-desk"))
    me, lead, manager = people["agent"].id, people["lead"].id, people["manager"].id
    made = {"mine": conversation(demo, assignee_id=me, team_id=team.id),
            "team": conversation(demo, team_id=team.id), "loose": conversation(demo),
            "team_pending": conversation(demo, status="pending", assignee_id=lead, team_id=team.id),
            "mine_resolved": conversation(demo, status="resolved", assignee_id=me),
            "manager": conversation(demo, assignee_id=manager)}
    # An agent sees their own and the queues (their team's, no team's), not what a teammate
    # or a manager holds (the role table: leads see their teams', managers everything).
    expected = {("for_me", "open"): {"mine", "team"}, ("for_me", "resolved"): {"mine_resolved"},
                ("mine", "open"): {"mine"}, ("mine", "resolved"): {"mine_resolved"},
                ("team", "open"): {"mine", "team"},
                ("unassigned", "open"): {"team", "loose"},
                ("all", "open"): {"mine", "team", "loose"},
                ("all", "resolved"): {"mine_resolved"}}
    views = ("for_me", "mine", "team", "unassigned", "all")
    statuses = ("open", "pending", "resolved")
    for view in views:
        for status in statuses:
            page = soup(agent.get(f"/inbox/?view={view}&status={status}"))
            rows = {r["id"] for r in page.select("li.row")}
            assert rows == {f"row-{made[n].id}" for n in expected.get((view, status), ())}
            counts = [int(c.get_text()) for c in page.select("nav.filters .count")]
            assert counts == [len(expected.get((v, status), ())) for v in views] + [
                len(expected.get((view, s), ())) for s in statuses], (view, status)


def test_rows_show_urgent_first_then_longest_waiting_with_badges_place_and_wait(demo, agent):
    calm_30 = conversation(demo, "Calm for half an hour", minutes=30)
    urgent_10 = conversation(demo, "The shower is scalding", minutes=10, urgency="urgent",
                             sentiment="negative", category=demo.category("cleanliness"))
    calm_125 = conversation(demo, "Calm for two hours", minutes=125,
                            touchpoint=demo.touchpoint("table-7"))
    urgent_5 = conversation(demo, "Urgent for five", minutes=5, urgency="urgent")
    page = soup(agent.get("/inbox/?view=all"))
    rows = page.select("li.row")
    order = (urgent_10, urgent_5, calm_125, calm_30)
    assert [r["id"] for r in rows] == [f"row-{c.id}" for c in order]
    first = rows[0]
    assert first.select_one(".place").get_text() == "Room 412"
    assert [b.get_text() for b in first.select(".badge")] == ["Urgent", "Negative", "Cleanliness"]
    assert first.select_one(".first-line").get_text() == "The shower is scalding"
    assert "waiting 10 min" in first.select_one(".meta").get_text()
    assert rows[2].select_one(".place").get_text() == "Table 7"
    assert "waiting 2 h 5 min" in rows[2].get_text() and "Not tagged yet" in rows[2].get_text()


def test_a_customer_who_writes_again_has_waited_since_the_first_unanswered_message(demo, agent):
    calm_30 = conversation(demo, "Waiting half an hour", minutes=30)
    nudged = conversation(demo, "Waiting an hour", minutes=60)
    again = nudged.add_message("customer", "Hello? Anyone?")
    again.created_at = nudged.last_message_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    rows = soup(agent.get("/inbox/?view=all")).select("li.row")
    assert [r["id"] for r in rows] == [f"row-{nudged.id}", f"row-{calm_30.id}"]
    assert "waiting 1 h 0 min" in rows[0].get_text()


def test_conversation_shows_transcript_survey_answers_and_contact(app, agent):
    token = customer_journey(app.test_client(), "The shower is cold", name="Deniz",
                             contact="deniz@example.com")
    convo = Conversation.by_token(token)
    page = soup(agent.get(f"/inbox/c/{convo.id}"))
    assert "The shower is cold" in page.select_one("#thread").get_text()
    facts = [t.get_text() for t in page.select("aside.facts dt, aside.facts dd")]
    for fact in ("Room 412", "Deniz", "deniz@example.com", "How is your stay?", "4",
                 "Was your room clean?", "✓"):
        assert fact in facts


def test_a_reply_reaches_the_customer_once_and_stamps_the_first_response(app, demo, agent):
    convo = conversation(demo, "Is breakfast included?")
    url = f"/inbox/c/{convo.id}"
    page = agent.get(url)
    for _attempt in range(2):  # the same form sent twice (a retry) is stored once
        sent = agent.submit(page, REPLY, body="Yes, from 7 to 10.")
        assert (sent.status_code, sent.headers["Location"]) == (303, url)
    stored = fresh(convo)
    replies = [m for m in stored.messages if m.author_kind == "staff"]
    assert [m.body for m in replies] == ["Yes, from 7 to 10."]
    assert stored.first_response_at == replies[0].created_at
    assert (stored.status, stored.assignee_id) == ("pending", agent.member.id)
    assert "Yes, from 7 to 10." in app.test_client().get(f"/c/{convo.token}").text
    first_response = stored.first_response_at
    longest = "é" * 3998 + "\r\n!"  # 4,000 characters: a browser's CRLF counts as one
    assert agent.act(convo.id, REPLY, body=longest).status_code == 303
    assert fresh(convo).messages[-1].body == longest.replace("\r\n", "\n")
    assert fresh(convo).first_response_at == first_response


def test_a_private_note_never_reaches_the_customer(app, demo, agent):
    convo = conversation(demo, "Noisy neighbours")
    assert agent.act(convo.id, NOTE, note="VIP guest, upgrade quietly").status_code == 303
    assert agent.act(convo.id, ASSIGN).status_code == 303
    thread = soup(agent.get(f"/inbox/c/{convo.id}")).select_one("#thread li.internal.staff")
    assert "VIP guest" in thread.get_text() and "private note" in thread.get_text()
    customer = app.test_client()
    for path, headers in (("", {}), ("/messages", {}), ("/frame", {}),
                          ("/messages?after=0", {"HX-Request": "true"})):
        shown = customer.get(f"/c/{convo.token}{path}", headers=headers)
        assert shown.status_code == 200 and "Noisy neighbours" in shown.text
        assert "VIP guest" not in shown.text and "assigned" not in shown.text


def test_assign_transfer_resolve_reopen_with_plain_forms(app, demo, people):
    # A lead: they keep seeing what they hand to a teammate (an agent would not).
    lead = Staff(app, "lead@demo.example")
    convo = conversation(demo, "Lost my key card")
    url = f"/inbox/c/{convo.id}"
    page = lead.get(url)
    assert all(f["method"] == "post" and f["action"] for f in soup(page).select("main form"))
    steps = [(ASSIGN, {}, lambda c: c.assignee_id == people["lead"].id),
             (TRANSFER, {"target": option(page, "target", "Ayşe Demir")},
              lambda c: c.assignee_id == people["agent"].id),
             (TRANSFER, {"target": option(page, "target", "Front desk")},
              lambda c: c.team.slug == "front-desk" and c.assignee_id is None),
             (RESOLVE, {}, lambda c: c.status == "resolved" and c.resolved_at is not None),
             (REOPEN, {}, lambda c: c.status == "open" and c.resolved_at is None)]
    for selector, fields, check in steps:
        done = lead.act(convo.id, selector, **fields)
        assert (done.status_code, done.headers["Location"]) == (303, url), selector
        assert check(fresh(convo)), selector
    thread = soup(lead.get(url)).select_one("#thread").get_text()
    for line in ("Mehmet Kaya assigned this to Mehmet Kaya.", "assigned this to Ayşe Demir.",
                 "transferred this to Front desk.", "resolved this conversation.",
                 "reopened this conversation."):
        assert line in thread


def test_an_agent_who_hands_a_conversation_to_a_teammate_no_longer_sees_it(demo, agent):
    convo = conversation(demo, "Lost my key card")
    page = agent.get(f"/inbox/c/{convo.id}")
    done = agent.act(convo.id, TRANSFER, target=option(page, "target", "Mehmet Kaya"))
    assert done.status_code == 303
    assert agent.get(f"/inbox/c/{convo.id}").status_code == 404


def test_tag_corrections_change_the_conversation_and_are_stored(demo, agent):
    convo = conversation(demo, "The room smells of smoke", sentiment="neutral")
    for field, value in (("sentiment", "negative"), ("category", "cleanliness"),
                         ("urgency", "urgent"), ("sentiment", "negative")):
        assert agent.act(convo.id, tag(field), value=value).status_code == 303
    stored = fresh(convo)
    tags = (stored.sentiment, stored.category.slug, stored.urgency)
    assert tags == ("negative", "cleanliness", "urgent")
    corrections = db.session.scalars(select(TagCorrection).order_by(TagCorrection.id)).all()
    assert [(c.field, c.old_value, c.new_value, c.text, c.staff_id) for c in corrections] == [
        (f, old, new, "The room smells of smoke", agent.member.id) for f, old, new in (
            ("sentiment", "neutral", "negative"), ("category", None, "cleanliness"),
            ("urgency", None, "urgent"))]


def test_a_canned_reply_fills_the_reply_box(demo, agent):
    garden = "Served 7 to 10 in the garden."
    breakfast = CannedReply(brand_id=demo.id, title="Breakfast", body=garden)
    db.session.add(breakfast)
    db.session.commit()
    convo = conversation(demo)
    page = agent.get(f"/inbox/c/{convo.id}")
    client_id = soup(page).select_one("#reply-form input[name=client_id]")["value"]
    for htmx in (False, True):
        filled = agent.submit(page, REPLY, htmx=htmx, action=f"/inbox/c/{convo.id}/canned",
                              canned=str(breakfast.id), body="Good morning!")
        assert filled.status_code == 200 and ("<html" in filled.text) is not htmx
        assert filled.text.startswith('<form id="reply-form"') is htmx
        box = soup(filled).select_one("#reply-form")
        assert box.select_one("textarea").get_text() == "Good morning!\n\n" + garden
        assert box.select_one("input[name=client_id]")["value"] == client_id


def test_the_customer_sees_seen_once_staff_open_the_conversation(app, demo, agent):
    convo, customer = conversation(demo, "Late checkout?"), app.test_client()

    def seen_line():
        return soup(customer.get(f"/c/{convo.token}")).select_one("#message-list li#seen").text

    assert seen_line() == ""
    agent.get(f"/inbox/c/{convo.id}")
    assert seen_line() == "Seen"
    customer.post(f"/c/{convo.token}", data={"body": "Until 2 pm?", "client_id": uuid.uuid4().hex})
    assert seen_line() == ""  # staff saw the first message, not yet the new one
    agent.get(f"/inbox/c/{convo.id}")
    assert seen_line() == "Seen"


def test_an_htmx_reply_returns_a_fresh_form_and_the_header_out_of_band(demo, agent):
    convo = conversation(demo)
    page = agent.get(f"/inbox/c/{convo.id}")
    assert "HX-Request" in page.headers["Vary"]
    sent = agent.submit(page, REPLY, htmx=True, body="On its way.")
    assert sent.status_code == 200 and "HX-Request" in sent.headers["Vary"]
    assert sent.text.startswith('<form id="reply-form"') and "<html" not in sent.text
    answer = soup(sent)
    assert answer.select_one("#reply-body").get_text() == ""
    old_id = soup(page).select_one("#reply-form input[name=client_id]")["value"]
    assert answer.select_one("#reply-form input[name=client_id]")["value"] not in ("", old_id)
    assert answer.select_one("#conversation-header")["hx-swap-oob"] == "true"
    # The reply reaches the thread by its socket or poll, which append after the thread's
    # cursor: sent in this answer too, it would show twice.
    assert answer.select_one("#thread") is None and "On its way." not in sent.text
    assert "On its way." in soup(agent.get(f"/inbox/c/{convo.id}")).select_one("#thread").text
