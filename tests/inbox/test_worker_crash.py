"""A worker killed in the middle of an alert job: another worker runs the job again, and a
held alert it had claimed is taken over once the claim expires."""
import os
import signal
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AlertDelivery, AlertTarget, OutboxEvent, db
from models.common import utcnow

from ..receivers import wait_for
from .conftest import REDIS_URL, start_worker, stop_worker
from .staff import customer_journey

FAST_RECOVERY = {"KULAK_OUTBOX_REDISPATCH_SECONDS": "3", "KULAK_ALERT_CLAIM_SECONDS": "2"}


@pytest.mark.postgresql_only
def test_a_job_cut_off_by_a_killed_worker_is_run_again_by_another(
        app, client, demo, people, monkeypatch, tmp_path, alerts_queue, http_receiver):
    db.session.add(AlertTarget(brand_id=demo.id, staff_id=people["agent"].id, label="Agent",
                               url=f"json://127.0.0.1:{http_receiver.port}/agent"))
    db.session.commit()
    http_receiver.delay = 2.5  # the receiver is still answering when the worker dies
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    first = start_worker(app, tmp_path / "first", **FAST_RECOVERY)
    try:
        customer_journey(client, "Is the spa open tonight?")
        assert wait_for(lambda: http_receiver.requests, seconds=15), "the first worker never sent"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        stop_worker(first) if first.poll() is None else None
    db.session.expire_all()
    event = db.session.scalar(select(OutboxEvent).filter_by(kind="conversation.created"))
    assert event.dispatched_at is None  # the job never finished
    http_receiver.delay = 0
    second = start_worker(app, tmp_path / "second", **FAST_RECOVERY)
    try:
        assert wait_for(lambda: len(http_receiver.requests) >= 2, seconds=30), (
            (tmp_path / "second" / "worker.log").read_text()[-2000:])
        assert wait_for(lambda: db.session.scalar(select(AlertDelivery.status).execution_options(
            populate_existing=True)) == "sent", seconds=10)
    finally:
        stop_worker(second)
    db.session.expire_all()
    assert db.session.get(OutboxEvent, event.id).dispatched_at is not None
    assert {r["path"] for r in http_receiver.requests} == {"/agent"}


@pytest.mark.postgresql_only
def test_a_held_alert_whose_worker_died_mid_send_is_sent_late_by_another(
        app, client, demo, people, monkeypatch, tmp_path, alerts_queue, http_receiver):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    customer_journey(client, "Could someone bring towels in the morning?")
    event = db.session.scalar(select(OutboxEvent).filter_by(kind="conversation.created"))
    target = AlertTarget(brand_id=demo.id, staff_id=people["agent"].id, label="Agent",
                         url=f"json://127.0.0.1:{http_receiver.port}/held")
    db.session.add(target)
    db.session.flush()
    # Held for the agent's quiet hours, which ended a moment ago: the sweep sends it now.
    db.session.add(AlertDelivery(event_id=event.id, target_id=target.id,
                                 staff_id=target.staff_id, status="held",
                                 send_after=utcnow() - timedelta(seconds=5)))
    db.session.commit()
    http_receiver.delay = 2.5  # still answering when the worker dies
    first = start_worker(app, tmp_path / "first", **FAST_RECOVERY)
    try:
        assert wait_for(lambda: http_receiver.requests, seconds=20), "the held alert never left"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        stop_worker(first) if first.poll() is None else None

    def status():
        return db.session.scalar(select(AlertDelivery.status).execution_options(
            populate_existing=True))
    assert status() == "sending"  # claimed by the dead worker
    http_receiver.delay = 0
    second = start_worker(app, tmp_path / "second", **FAST_RECOVERY)
    try:
        assert wait_for(lambda: status() == "sent", seconds=30), (
            (tmp_path / "second" / "worker.log").read_text()[-2000:])
    finally:
        stop_worker(second)
    # The dead worker's attempt and the one that went out after its claim expired; no more.
    assert [r["path"] for r in http_receiver.requests] == ["/held", "/held"]
