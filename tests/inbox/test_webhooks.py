"""CRM webhooks: signed JSON per event, retried with backoff, every attempt in the log."""
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from app.alerts import webhooks
from models import Brand, Conversation, Webhook, WebhookDelivery, db

from ..receivers import wait_for
from .staff import REPLY, RESOLVE, customer_journey, soup

ADD = 'form[action="/admin/webhooks"]'
ALL_EVENTS = ["conversation.created", "message.created", "conversation.escalated",
              "conversation.resolved"]


def add_hook(manager, url, events=ALL_EVENTS):
    page = manager.get("/admin/webhooks")
    form = soup(page).select_one(ADD)
    data = {"csrf_token": form.select_one("input[name=csrf_token]")["value"], "url": url,
            "events": events}
    return manager.client.post("/admin/webhooks", data=data)


def opened(client, body="Could we have an extra blanket?"):
    token = customer_journey(client, body)
    db.session.expire_all()
    return db.session.scalar(select(Conversation).filter_by(token=token))


def verified(request, secret):
    """The JSON of a request whose signature checks out with `secret` (else an error)."""
    headers, body = request["headers"], request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), headers["X-Kulak-Timestamp"].encode()
                                    + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Kulak-Signature"], expected)
    return json.loads(body)


def test_a_manager_adds_a_webhook_and_each_event_arrives_signed(client, demo, manager, agent,
                                                               http_receiver):
    url = f"http://127.0.0.1:{http_receiver.port}/crm"
    assert add_hook(manager, url).status_code == 303
    hook = db.session.scalar(select(Webhook))
    db.session.refresh(demo)
    assert sorted(demo.webhook_events) == sorted(ALL_EVENTS)
    assert hook.secret in manager.get("/admin/webhooks").text

    convo = opened(client)
    assert wait_for(lambda: len(http_receiver.requests) == 2)  # created, and its first message
    assert agent.act(convo.id, REPLY, body="Bringing one now").status_code == 303
    assert agent.act(convo.id, RESOLVE).status_code == 303
    assert wait_for(lambda: len(http_receiver.requests) == 4)
    events = [verified(r, hook.secret) for r in http_receiver.requests]
    kinds = sorted(e["type"] for e in events)
    assert kinds == ["conversation.created", "conversation.resolved", "message.created",
                     "message.created"]
    created = next(e for e in events if e["type"] == "conversation.created")
    assert created["brand"] == "demo" and created["data"]["conversation"]["place"] == "Room 412"
    assert created["data"]["conversation"]["url"] == f"http://kulak.test/inbox/c/{convo.id}"
    bodies = sorted(e["data"]["message"]["body"] for e in events if e["type"] == "message.created")
    assert bodies == ["Bringing one now", "Could we have an extra blanket?"]
    assert {r["headers"]["X-Kulak-Event"] for r in http_receiver.requests} == set(kinds)
    log = soup(manager.get("/admin/webhooks")).select("tr.delivery-delivered")
    assert len(log) == 4


def test_only_the_events_chosen_are_sent(client, demo, manager, http_receiver):
    add_hook(manager, f"http://127.0.0.1:{http_receiver.port}/crm", ["conversation.resolved"])
    opened(client)
    assert not wait_for(lambda: http_receiver.requests, seconds=1)
    assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_a_failing_receiver_is_retried_with_backoff_then_delivered(client, demo, manager,
                                                                   http_receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "BACKOFF_SECONDS", (0.3, 0.6, 1.2))
    http_receiver.statuses = [500, 503]
    add_hook(manager, f"http://127.0.0.1:{http_receiver.port}/crm", ["conversation.created"])
    opened(client)
    assert wait_for(lambda: len(http_receiver.requests) == 3, seconds=10)
    gaps = [b["at"] - a["at"] for a, b in zip(http_receiver.requests, http_receiver.requests[1:],
                                             strict=False)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.55  # the wait doubles
    ids = {r["headers"]["X-Kulak-Delivery"] for r in http_receiver.requests}
    assert len(ids) == 1  # one delivery, three attempts: a receiver can drop repeats
    assert wait_for(lambda: db.session.scalar(select(WebhookDelivery.status).execution_options(
        populate_existing=True)) == "delivered")
    db.session.expire_all()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert (delivery.attempts, delivery.last_status_code) == (3, 200)


def test_a_receiver_that_never_answers_well_is_marked_failed_and_shown(
        client, demo, manager, http_receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "BACKOFF_SECONDS", (0.2, 0.2))
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    http_receiver.status, http_receiver.delay = 500, 0.8  # too slow, and an error at that
    add_hook(manager, f"http://127.0.0.1:{http_receiver.port}/crm", ["conversation.created"])
    opened(client)
    assert wait_for(lambda: db.session.scalar(select(WebhookDelivery.status).execution_options(
        populate_existing=True)) == "failed", seconds=15)
    db.session.expire_all()
    assert db.session.scalar(select(WebhookDelivery.attempts)) == 3
    row = soup(manager.get("/admin/webhooks")).select_one("tr.delivery-failed")
    # In words, without the connection's own error (app/core/egress.py).
    assert row is not None and "could not deliver" in row.get_text()
    assert "timed out" not in row.get_text().lower()


@pytest.mark.parametrize("url, events, message", [
    ("ftp://crm.example.com/in", ALL_EVENTS, "Please enter a full http:// or https:// address"),
    ("crm.example.com", ALL_EVENTS, "Please enter a full http:// or https:// address"),
    ("", ALL_EVENTS, "Please enter the address that receives the events."),
    ("https://crm.example.com/" + "x" * 1000, ALL_EVENTS, "Please use at most 1000 characters"),
    ("https://crm.example.com/in", [], "Please choose at least one event."),
    ("https://crm.example.com/in", ["conversation.deleted"],
     "'conversation.deleted' is not a valid choice for this field."),
])
def test_a_bad_webhook_is_refused_with_a_clear_message(manager, url, events, message):
    refused = add_hook(manager, url, events)
    assert refused.status_code == 422
    assert message in soup(refused).get_text()
    assert db.session.scalars(select(Webhook)).all() == []


def test_agents_and_leads_cannot_manage_webhooks(demo, agent, lead, manager):
    hook = Webhook(brand_id=demo.id, url="https://crm.example.com/in", events=ALL_EVENTS)
    db.session.add(hook)
    db.session.commit()
    for staff in (agent, lead):
        assert staff.get("/admin/webhooks").status_code == 403
        assert "/admin/webhooks" not in staff.get("/inbox/").text
        data = {"csrf_token": staff.token, "url": "https://evil.example/", "events": ALL_EVENTS}
        for url in ("/admin/webhooks", f"/admin/webhooks/{hook.id}/delete"):
            assert staff.client.post(url, data=data).status_code == 403, url
    assert db.session.scalars(select(Webhook.url)).all() == ["https://crm.example.com/in"]
    assert "/admin/webhooks" in manager.get("/inbox/").text


def test_removing_a_webhook_stops_its_events(client, demo, manager, http_receiver):
    add_hook(manager, f"http://127.0.0.1:{http_receiver.port}/crm")
    page = manager.get("/admin/webhooks")
    assert manager.submit(page, 'form[action$="/delete"]').status_code == 303
    assert db.session.get(Brand, demo.id).webhook_events == []
    opened(client)
    assert not wait_for(lambda: http_receiver.requests, seconds=1)


def test_an_escalation_is_sent_as_an_event(client, demo, manager, http_receiver):
    from .test_escalation import policy
    policy(demo, ("reply", 1, 1, "alert", "role", "lead"))
    add_hook(manager, f"http://127.0.0.1:{http_receiver.port}/crm", ["conversation.escalated"])
    convo = opened(client)
    assert wait_for(lambda: http_receiver.requests, seconds=10)
    hook = db.session.scalar(select(Webhook))
    event = verified(http_receiver.requests[0], hook.secret)
    assert event["type"] == "conversation.escalated"
    assert event["data"]["escalation"] == {"level": 1, "action": "alert"}
    assert event["data"]["conversation"]["id"] == convo.id
