"""Staff alerts: each person's Apprise channels, the test button, and alerts on a new
conversation, carried by the outbox: sent once, and late rather than lost when Redis is down."""
import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.alerts import outbox
from app.alerts.service import dispatch
from models import AlertDelivery, AlertTarget, Conversation, OutboxEvent, db

from ..conftest import free_port
from ..receivers import wait_for
from .conftest import REDIS_URL
from .staff import customer_journey, soup

ADD = 'form[action="/inbox/alerts"]'
NEGATIVE_URGENT = "There is water pouring from the ceiling onto the bed, this is terrible"


def add_target(staff, label, url):
    return staff.submit(staff.get("/inbox/alerts"), ADD, label=label, url=url)


def test_a_test_alert_reaches_a_real_smtp_server_and_the_page_says_so(agent, smtp_inbox):
    assert add_target(agent, "Work email", smtp_inbox.url("ayse@demo.example")).status_code == 303
    page = agent.get("/inbox/alerts")
    assert "Work email" in page.text
    tried = agent.submit(page, 'form[action$="/test"]')
    assert tried.status_code == 200
    assert "A test alert went to “Work email”" in tried.text
    assert wait_for(lambda: smtp_inbox.messages)
    [mail] = smtp_inbox.messages
    assert mail["to"] == ["ayse@demo.example"] and "Subject: Kulak test alert" in mail["content"]


def test_a_test_alert_that_cannot_arrive_says_so_instead_of_pretending(agent):
    add_target(agent, "Old pager", f"json://127.0.0.1:{free_port()}/hook")  # nobody listens
    tried = agent.submit(agent.get("/inbox/alerts"), 'form[action$="/test"]')
    assert tried.status_code == 502
    assert "The test alert to “Old pager” did not arrive" in tried.text


@pytest.mark.parametrize("url, message", [
    ("not a url at all", "Kulak cannot send alerts to that address"),
    ("mailto://", "Kulak cannot send alerts to that address"),
    ("", "Please enter where alerts should go."),
    ("json://example.com/" + "x" * 1000, "Please use at most 1000 characters"),
])
def test_a_bad_alert_address_is_refused_with_a_clear_message(agent, url, message):
    refused = add_target(agent, "Phone", url)
    assert refused.status_code == 422
    assert message in soup(refused).get_text()
    assert db.session.scalars(select(AlertTarget)).all() == []


def test_the_same_address_twice_is_refused(agent, http_receiver):
    url = f"json://127.0.0.1:{http_receiver.port}/a"
    add_target(agent, "Phone", url)
    again = add_target(agent, "Phone again", url)
    assert again.status_code == 422 and "You already receive alerts at that address." in again.text


def test_nobody_tests_or_removes_anothers_channel(agent, lead, http_receiver):
    add_target(lead, "Lead's phone", f"json://127.0.0.1:{http_receiver.port}/lead")
    target = db.session.scalar(select(AlertTarget))
    form = {"csrf_token": agent.token}
    assert agent.client.post(f"/inbox/alerts/{target.id}/test", data=form).status_code == 404
    assert agent.client.post(f"/inbox/alerts/{target.id}/delete", data=form).status_code == 404
    assert "Lead's phone" not in agent.get("/inbox/alerts").text
    assert http_receiver.requests == [] and db.session.get(AlertTarget, target.id) is not None


def opened(client, body):
    token = customer_journey(client, body)
    db.session.expire_all()
    return db.session.scalar(select(Conversation).filter_by(token=token))


def test_a_new_conversation_alerts_its_assignee_with_place_tags_first_line_and_link(
        client, agent, lead, people, online, http_receiver):
    add_target(agent, "Agent push", f"ntfy://127.0.0.1:{http_receiver.port}/agent")
    add_target(lead, "Lead hook", f"json://127.0.0.1:{http_receiver.port}/lead")
    online(people["agent"])  # routed to the agent: the lead hears only of bad news
    convo = opened(client, "Could we have two more pillows please?")
    assert convo.assignee_id == people["agent"].id
    assert wait_for(lambda: http_receiver.requests)
    [alert] = http_receiver.json_bodies()
    assert alert["topic"] == "agent"
    assert "Demo Hotel" in alert["title"] and "Room 412" in alert["title"]
    assert "“Could we have two more pillows please?”" in alert["message"]
    assert f"http://kulak.test/inbox/c/{convo.id}" in alert["message"]
    assert convo.category.label("en") in alert["message"]


def test_an_urgent_negative_conversation_also_alerts_the_lead_at_once(
        client, agent, lead, people, online, http_receiver):
    add_target(agent, "Agent hook", f"json://127.0.0.1:{http_receiver.port}/agent")
    add_target(lead, "Lead hook", f"json://127.0.0.1:{http_receiver.port}/lead")
    online(people["agent"])
    convo = opened(client, NEGATIVE_URGENT)
    assert (convo.urgency, convo.sentiment) == ("urgent", "negative")
    assert wait_for(lambda: len(http_receiver.requests) == 2)
    assert sorted(r["path"] for r in http_receiver.requests) == ["/agent", "/lead"]
    assert all(b["title"].startswith("URGENT ") for b in http_receiver.json_bodies())


def test_with_redis_down_the_conversation_is_kept_and_its_alert_arrives_once_later(
        app, client, agent, monkeypatch, alerts_queue, http_receiver):
    add_target(agent, "Agent hook", f"json://127.0.0.1:{http_receiver.port}/agent")
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    convo = opened(client, "Is breakfast included in our rate?")  # answered 303: stored
    [event] = db.session.scalars(select(OutboxEvent)).all()
    assert (event.conversation_id, event.kind, event.relayed_at) == (
        convo.id, "conversation.created", None)
    assert http_receiver.requests == []

    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)  # Redis is back
    assert outbox.relay(OutboxEvent.unrelayed()) == 1 and outbox.relay(OutboxEvent.unrelayed()) == 0
    assert alerts_queue.count == 1
    SimpleWorker([alerts_queue], connection=alerts_queue.connection).work(burst=True)
    assert len(http_receiver.requests) == 1
    dispatch(event.id)  # a second worker, or a retry, runs the same job again
    assert len(http_receiver.requests) == 1
    delivery = db.session.scalar(select(AlertDelivery))
    assert (delivery.status, delivery.staff_id) == ("sent", agent.member.id)


def test_a_receiver_that_fails_is_recorded_as_failed_and_does_not_block_the_others(
        client, agent, lead, smtp_inbox, http_receiver):
    http_receiver.status = 500
    add_target(lead, "Broken hook", f"json://127.0.0.1:{http_receiver.port}/lead")
    add_target(agent, "Agent email", smtp_inbox.url("ayse@demo.example"))
    opened(client, NEGATIVE_URGENT)  # nobody online: the team, lead included, is alerted
    assert wait_for(lambda: smtp_inbox.messages and http_receiver.requests)
    assert wait_for(lambda: not db.session.scalars(select(AlertDelivery).filter_by(
        status="sending").execution_options(populate_existing=True)).all())
    db.session.expire_all()
    statuses = {d.target_id: d.status for d in db.session.scalars(select(AlertDelivery))}
    by_label = {t.label: t.id for t in db.session.scalars(select(AlertTarget))}
    assert statuses == {by_label["Broken hook"]: "failed", by_label["Agent email"]: "sent"}


@pytest.mark.postgresql_only
def test_the_worker_process_relays_what_the_web_could_not_queue(
        app, client, agent, monkeypatch, worker_process, http_receiver):
    add_target(agent, "Agent hook", f"json://127.0.0.1:{http_receiver.port}/agent")
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    convo = opened(client, "Can we get a late checkout tomorrow?")
    assert wait_for(lambda: http_receiver.requests, seconds=20), "no alert within 20 s"
    assert f"/inbox/c/{convo.id}" in http_receiver.json_bodies()[0]["message"]
    assert worker_process.poll() is None
