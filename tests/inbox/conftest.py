"""Fixtures of the inbox tests: signed-in staff, the demo staff by name, who is online, a
real Redis queue and a real worker process."""
import pytest
import redis
from rq import Queue
from sqlalchemy import select

from app.realtime.hub import LiveSocket
from harness.servers import KulakWorker, stop_group
from models import StaffMember, Team, Touchpoint, db

from ..test_hub import RecordingWebSocket
from .staff import Staff

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def agent(app, demo):
    return Staff(app, "agent@demo.example")


@pytest.fixture
def people(demo):
    return {s.email.split("@")[0]: s for s in db.session.scalars(select(StaffMember))}


@pytest.fixture
def online(app):
    """Open an inbox socket for a member of staff (they are online); close them all after."""
    hub, sockets = app.extensions["kulak_hub"], []

    def open_inbox(member):
        socket = LiveSocket(RecordingWebSocket(), member.brand_id, staff_id=member.id,
                            list_url="/inbox/")
        hub.join(socket, {f"brand:{member.brand_id}": "inbox"})
        sockets.append(socket)
        return socket
    yield open_inbox
    for socket in sockets:
        hub.leave(socket)


@pytest.fixture
def lead(app, demo):
    return Staff(app, "lead@demo.example")


@pytest.fixture
def manager(app, demo):
    return Staff(app, "manager@demo.example")


@pytest.fixture
def alerts_queue(app, monkeypatch):
    """Yield the empty "alerts" queue on the local Redis; the app is not pointed at it yet.

    The test database's ids start again in every test: a job queued or scheduled by an earlier
    test would act on this test's rows of the same id, so the whole test Redis database is
    emptied before and after."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield Queue("alerts", connection=connection)
    connection.flushdb()


def start_worker(app, tmp_path, redis_url=REDIS_URL, **extra_env):
    """Start a real `kulak worker` process on this test's database and `redis_url`."""
    return KulakWorker(tmp_path, {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                                  "REDIS_URL": redis_url, "KULAK_PUBLIC_URL": "http://kulak.test",
                                  **extra_env}).start().process


@pytest.fixture
def worker_process(app, tmp_path, alerts_queue):
    """A real `kulak worker` on this test's database and the local Redis."""
    process = start_worker(app, tmp_path)
    yield process
    stop_worker(process)


def stop_worker(process):
    """Stop a worker and everything it started (its sweep, its scheduler, a job's fork)."""
    stop_group(process)


@pytest.fixture
def places(demo):
    """The demo's touchpoints by slug."""
    return {t.slug: t for t in db.session.scalars(select(Touchpoint).filter_by(brand_id=demo.id))}


@pytest.fixture
def desk(demo):
    """The demo's front desk team."""
    return db.session.scalar(select(Team).filter_by(brand_id=demo.id, slug="front-desk"))
