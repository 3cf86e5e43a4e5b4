"""The background worker: relay the outbox, then work the RQ queues with the scheduler."""
import logging
import multiprocessing
import os
import time

from redis import Redis, RedisError
from rq import SimpleWorker

from app.alerts.outbox import sweep_forever
from app.jobs import QUEUES
from models import db

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1


class AppWorker(SimpleWorker):
    """Run each job in this process, each with a database session of its own.

    Forking a child per job (RQ's default) cost alerts about 40 ms each, and everything the
    child had to load again; jobs here are short and idempotent, and a killed worker's job is
    retried by RQ. Run two or more workers so that a long job (retraining) never leaves the
    alerts queue unattended."""

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        finally:
            db.session.remove()


def warm_up():
    """Load what the first job would otherwise wait for: Apprise's plugin registry (about
    0.3 s) and the configured mappers."""
    import apprise
    from sqlalchemy.orm import configure_mappers
    apprise.Apprise().add("json://localhost")
    configure_mappers()


def run(app):
    """Work the queues until stopped (blocks); alerts are taken before any other work."""
    url = app.config["REDIS_URL"]
    if not url:
        raise SystemExit("REDIS_URL is not set: without Redis, `kulak serve` runs jobs itself.")
    with app.app_context():
        engine = db.engine
        warm_up()
    # The sweep process and RQ's scheduler process are forks: each opens its own database
    # connections, never this process's.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    # The outbox sweep is a process of its own, forked before any thread or connection exists,
    # so that it never shares a lock or a connection with the jobs.
    multiprocessing.get_context("fork").Process(
        target=sweep_forever, args=(app,), name="kulak-outbox-sweep", daemon=True).start()
    with app.app_context():
        while True:
            try:
                AppWorker(QUEUES, connection=Redis.from_url(url)).work(with_scheduler=True)
                return  # stopped on purpose (a signal)
            except RedisError as error:
                # RQ gives up when Redis goes away; the outbox keeps the work meanwhile, and
                # this process comes back to it when Redis does.
                log.warning("worker: Redis unavailable (%s); retrying in %s s", error,
                            RECONNECT_SECONDS)
                time.sleep(RECONNECT_SECONDS)
