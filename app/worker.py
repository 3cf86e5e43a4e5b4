"""The background worker: relay the outbox, then work the RQ queues with the scheduler."""
import logging
import multiprocessing
import os
import time

from redis import Redis, RedisError
from rq import Worker

from app.alerts.outbox import sweep_forever
from app.jobs import QUEUES
from models import db

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1


def run(app):
    """Work the queues until stopped (blocks); alerts are taken before any other work."""
    url = app.config["REDIS_URL"]
    if not url:
        raise SystemExit("REDIS_URL is not set: without Redis, `kulak serve` runs jobs itself.")
    with app.app_context():
        engine = db.engine
    # RQ runs each job in a forked child, which must open database connections of its own.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    # The outbox sweep is a process of its own, forked before any thread or connection
    # exists: a thread here would be copied into each job's fork in whatever state (a lock
    # held mid-query) it happened to be, and could hang the job.
    multiprocessing.get_context("fork").Process(
        target=sweep_forever, args=(app,), name="kulak-outbox-sweep", daemon=True).start()
    with app.app_context():
        while True:
            try:
                Worker(QUEUES, connection=Redis.from_url(url)).work(with_scheduler=True)
                return  # stopped on purpose (a signal)
            except RedisError as error:
                # RQ gives up when Redis goes away; the outbox keeps the work meanwhile, and
                # this process comes back to it when Redis does.
                log.warning("worker: Redis unavailable (%s); retrying in %s s", error,
                            RECONNECT_SECONDS)
                time.sleep(RECONNECT_SECONDS)
