"""The background worker: relay the outbox, then work the RQ queues with the scheduler."""
import os
import threading

from redis import Redis
from rq import Worker

from app.alerts.outbox import sweep_forever
from app.jobs import QUEUES
from models import db


def run(app):
    """Work the queues until stopped (blocks); alerts are taken before any other work."""
    url = app.config["REDIS_URL"]
    if not url:
        raise SystemExit("REDIS_URL is not set: without Redis, `kulak serve` runs jobs itself.")
    with app.app_context():
        engine = db.engine
        # Each job runs in a forked child: it must open its own database connections, never
        # share the ones the sweep thread holds in this process.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        threading.Thread(target=sweep_forever, args=(app,), daemon=True,
                         name="kulak-outbox-sweep").start()
        Worker(QUEUES, connection=Redis.from_url(url)).work(with_scheduler=True)
