"""The embedded job runner (no Redis): timed jobs run on this process's timers, until cancelled."""
import time
from datetime import timedelta

from app import jobs
from models.common import utcnow


def test_a_timed_job_runs_when_due_unless_its_timer_is_cancelled(app):
    assert app.config["REDIS_URL"] is None
    ran = []
    jobs.enqueue_at(utcnow() + timedelta(seconds=0.2), ran.append, "due")
    time.sleep(0.6)
    assert ran == ["due"]
    jobs.enqueue_at(utcnow() + timedelta(seconds=0.2), ran.append, "cancelled")
    assert jobs.cancel_timers() == 1  # the one that has not run; the one that ran is gone
    time.sleep(0.6)
    assert ran == ["due"]
