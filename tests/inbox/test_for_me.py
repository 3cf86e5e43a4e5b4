"""An agent who signs in sees what needs them, and what waited for their team is handed out."""
from sqlalchemy import select

from app.routing.service import hand_out_waiting
from models import Message, Team, db

from .staff import conversation, fresh, soup
from .test_routing import opened


def rows(page):
    return [row.select_one(".first-line").get_text(strip=True)
            for row in soup(page).select("#inbox-main .row")]


def test_the_default_view_is_mine_and_my_teams_queue(agent, demo, people):
    desk = db.session.scalar(select(Team).filter_by(brand_id=demo.id, slug="front-desk"))
    other = Team(brand_id=demo.id, slug="kitchen", name="Kitchen")
    db.session.add(other)
    db.session.commit()
    conversation(demo, "Mine, waiting 2 min", minutes=2, assignee=people["agent"], team=desk)
    conversation(demo, "Desk queue, waiting 9 min", minutes=9, team=desk)
    conversation(demo, "Desk queue, urgent", minutes=1, team=desk, urgency="urgent")
    conversation(demo, "Kitchen queue", minutes=30, team=other)
    conversation(demo, "The lead's", minutes=40, assignee=people["lead"], team=desk)
    page = agent.get("/inbox/")
    assert soup(page).select_one('.views a[aria-current="page"]').get_text(" ", strip=True) \
        .startswith("For me")
    assert rows(page) == ["Desk queue, urgent", "Desk queue, waiting 9 min",
                          "Mine, waiting 2 min"]


def test_nobody_online_then_the_agent_comes_online_and_gets_it(client, demo, people, online,
                                                               agent):
    convo, acknowledgement = opened(client, "The shower has no hot water")
    assert convo.assignee_id is None and "Nobody from Front desk is online" in acknowledgement
    assert "The shower has no hot water" in agent.get("/inbox/").text  # For me shows it
    online(people["agent"])
    assert hand_out_waiting(people["agent"]) == 1
    convo = fresh(convo)
    assert convo.assignee_id == people["agent"].id
    said = db.session.scalars(select(Message.body).filter_by(
        conversation_id=convo.id, author_kind="system").order_by(Message.id)).all()
    assert said[-1] == "Ayşe Demir from Front desk is answering now."
    customer_page = client.get(f"/c/{convo.token}")
    assert "Ayşe Demir from Front desk is answering now." in customer_page.text
    assert hand_out_waiting(people["agent"]) == 0  # once handed out, it stays


def test_the_least_busy_of_those_online_gets_each_waiting_one(client, demo, people, online):
    first, _ = opened(client, "First guest")
    second, _ = opened(client, "Second guest")
    online(people["agent"])
    online(people["lead"])
    conversation(demo, "Already the agent's", assignee=people["agent"],
                 team=fresh(first).team)
    assert hand_out_waiting(people["agent"]) == 2
    owners = {fresh(c).assignee_id for c in (first, second)}
    assert owners == {people["lead"].id, people["agent"].id}
