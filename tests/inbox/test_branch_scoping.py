"""Branch scoping: staff limited to some touchpoints see and act on only their conversations,
in lists, counts, pages and actions (routing and alerts: test_branch_routing.py; live updates:
test_branch_live.py)."""
import uuid

from models import (
    db,
)

from .scoping import limit
from .staff import TRANSFER, conversation, fresh, soup
from .test_isolation import everything, id_rules, urls

VIEWS = ("for_me", "mine", "team", "unassigned", "all")
STATUSES = ("open", "pending", "resolved")

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
