"""The one place that queues background work: RQ when Redis is configured, else this process.

Jobs are plain functions of ids. RQ runs them in `worker.py` (which builds the app); the
embedded default runs them on a thread of the web process, inside an app context.
"""
import functools
import logging
import threading
import weakref
from datetime import UTC, datetime

from flask import current_app

log = logging.getLogger(__name__)
# Alerts never wait behind slow work such as retraining: workers take the queues in this order.
ALERTS, DEFAULT, SLOW = "alerts", "default", "slow"
QUEUES = (ALERTS, DEFAULT, SLOW)


# Alert, escalation and webhook jobs are idempotent: a failure (the database restarting, a
# worker killed mid-job) is simply run again.
RETRY_INTERVALS = (1, 2, 5, 10, 30)
_timers = weakref.WeakSet()  # the embedded default's timed jobs, until they have run


def job_id(kind, *ids):
    """Return the RQ job id for `kind` of work on `ids`: one scheme, so a job queued twice
    for the same thing is one job ("kulak-held-7", "kulak-webhook-3-1")."""
    return "-".join(["kulak", kind, *(str(i) for i in ids)])


def _retry(queue):
    from rq import Retry
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)) \
        if queue != SLOW else None


@functools.cache
def _queue(url, name):
    """Return RQ's queue `name` on `url`, over one connection pool per process and queue."""
    from redis import Redis
    from rq import Queue
    return Queue(name, connection=Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2))


def enqueue(function, *args, queue=DEFAULT, timeout=600, job_id=None):
    """Run `function(*args)` in the background; return the RQ job, or the thread.

    With Redis, a Redis error is raised to the caller: work that must not be lost goes
    through the outbox (app/alerts/outbox.py), which keeps it until the queue takes it.
    """
    app = current_app._get_current_object()
    if app.config["REDIS_URL"]:
        return _queue(app.config["REDIS_URL"], queue).enqueue(
            function, *args, job_timeout=timeout, job_id=job_id, retry=_retry(queue))
    thread = threading.Thread(target=_run_in_app, args=(app, function, args), daemon=True,
                              name=f"kulak-job-{function.__name__}")
    thread.start()
    return thread


def enqueue_at(when, function, *args, queue=ALERTS, job_id=None):
    """Run `function(*args)` at `when` (naive UTC): RQ's scheduler, or a timer in this process."""
    app = current_app._get_current_object()
    if app.config["REDIS_URL"]:
        return _queue(app.config["REDIS_URL"], queue).enqueue_at(
            when.replace(tzinfo=UTC), function, *args, job_id=job_id, retry=_retry(queue))
    delay = max(0.0, (when - datetime.now(UTC).replace(tzinfo=None)).total_seconds())
    timer = threading.Timer(delay, _run_in_app, args=(app, function, args))
    timer.daemon = True
    _timers.add(timer)
    timer.start()
    return timer


def cancel_timers():
    """Cancel this process's timed jobs that have not run (the embedded default's); return
    how many. Work due later is picked up again by the sweeps when the process starts."""
    pending = [timer for timer in list(_timers) if timer.is_alive()]
    for timer in pending:
        timer.cancel()
    return len(pending)


def _run_in_app(app, function, args):
    with app.app_context():
        try:
            function(*args)
        except Exception:
            log.exception("background job %s%r failed", function.__name__, args)


def run_cpu_bound(function, *args):
    """Call a pure, CPU-heavy `function` so that a gevent web process keeps serving meanwhile.

    Under gevent a thread is a greenlet: seconds of computation would stall every request of
    the process. There it runs on gevent's pool of real threads; elsewhere it is a plain call.
    """
    try:
        from gevent import monkey
    except ImportError:
        return function(*args)
    if not monkey.is_module_patched("threading"):
        return function(*args)
    import gevent
    return gevent.get_hub().threadpool.apply(function, args)
