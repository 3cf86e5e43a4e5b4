"""Nothing is lost when Redis goes down: posts still commit, and once Redis is back every
alert and every webhook arrives exactly once. The test owns its Redis server to stop it."""
import json
import time
from collections import Counter

import pytest
from sqlalchemy import select

from harness.databases import RedisServer
from models import AlertTarget, Conversation, Webhook, db

from ..receivers import wait_for
from .conftest import start_worker, stop_worker
from .staff import customer_journey

CONVERSATIONS = 6


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)  # stopped and started again by the test
    server.start()
    yield server
    server.stop()


@pytest.mark.postgresql_only
def test_posts_during_a_redis_outage_alert_and_notify_exactly_once_after(
        app, client, demo, people, monkeypatch, tmp_path, own_redis, http_receiver):
    db.session.add_all([
        AlertTarget(brand_id=demo.id, staff_id=people["agent"].id, label="Agent",
                    url=f"json://127.0.0.1:{http_receiver.port}/alert"),
        Webhook(brand_id=demo.id, url=f"http://127.0.0.1:{http_receiver.port}/crm",
                events=["conversation.created"])])
    demo.webhook_events = ["conversation.created"]
    db.session.commit()
    monkeypatch.setitem(app.config, "REDIS_URL", own_redis.url)
    worker = start_worker(app, tmp_path, own_redis.url)
    try:
        own_redis.stop()
        tokens = [customer_journey(client, f"Outage message {n}") for n in range(CONVERSATIONS)]
        db.session.expire_all()
        assert len(db.session.scalars(select(Conversation)).all()) == CONVERSATIONS
        time.sleep(2)  # the worker's sweep keeps failing meanwhile
        assert http_receiver.requests == []
        own_redis.start()
        expected = 2 * CONVERSATIONS  # an alert and a webhook per conversation
        assert wait_for(lambda: len(http_receiver.requests) >= expected, seconds=30), (
            [(r["path"], r["body"][:80]) for r in http_receiver.requests],
            (tmp_path / "worker.log").read_text()[-3000:])
        time.sleep(2)  # anything doubled would arrive by now
        assert worker.poll() is None, "the worker died with Redis"
    finally:
        stop_worker(worker)
    alerts = Counter(json.loads(r["body"])["message"].split("“")[1].split("”")[0]
                     for r in http_receiver.requests if r["path"] == "/alert")
    hooks = Counter(json.loads(r["body"])["data"]["conversation"]["id"]
                    for r in http_receiver.requests if r["path"] == "/crm")
    assert sorted(alerts) == sorted(f"Outage message {n}" for n in range(CONVERSATIONS))
    assert set(alerts.values()) == {1} and set(hooks.values()) == {1}
    assert len(hooks) == CONVERSATIONS and len(tokens) == CONVERSATIONS
