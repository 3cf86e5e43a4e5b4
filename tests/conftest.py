"""Fixtures: the app on SQLite and on the real PostgreSQL, a real server, a real Chromium."""
import contextvars
import os
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app, jobs
from app.core import assets
from app.demo import seed_demo
from harness.databases import ADMIN_DSN, Schemas
from harness.databases import database_url as database_url  # re-exported, as the next two
from harness.receivers import HttpReceiver, SmtpInbox
from harness.servers import KulakServer
from harness.servers import free_port as free_port
from harness.servers import kulak_command as kulak_command
from models import db

POSTGRES = ADMIN_DSN
BACKENDS = ("sqlite", "postgresql")
DEMO_PASSWORD = "demo-password-for-tests"
CHROMIUM = "/usr/bin/chromium"
# Every app and server of the run loads one shipped model, built once (seconds of CPU), rather
# than each building its own in its instance folder; its file name says what it was built from.
MODEL_DIR = os.environ.setdefault("KULAK_MODEL_DIR", str(
    Path(tempfile.gettempdir()) / "kulak-test-models"))
# The tests' receivers (HTTP, SMTP) listen on 127.0.0.1: the egress policy admits that address
# alone, so every other loopback, private or metadata address stays refused (app/core/egress.py).
EGRESS_ALLOW = os.environ.setdefault("KULAK_EGRESS_ALLOW", "127.0.0.1")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def pytest_collection_modifyitems(config, items):
    """Leave out the SQLite runs of tests marked postgresql_only.

    They test what RQ worker processes and Redis do (a killed worker, an outage, two workers
    racing), not the database: deployments with workers run PostgreSQL, and every query they
    make is also tested on SQLite in-process. Left out, not skipped: they never ran there."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("migrated_app") if callspec else None
        on_sqlite = backend == "sqlite" and item.get_closest_marker("postgresql_only")
        (dropped if on_sqlite else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_schema():
    """Return a factory of fresh PostgreSQL schemas in database `test`, all dropped at the end."""
    schemas = Schemas()
    yield schemas
    schemas.drop_all()


class RequestPerContextClient(FlaskClient):
    """A test client whose every request gets its own app context (and `g`), as in production."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_app(request, tmp_path_factory, postgres_schema):
    """Return an app whose database (SQLite or PostgreSQL) has been migrated to head."""
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url(request.param, instance, postgres_schema),
        "RATELIMIT_ENABLED": False,
        "PUBLIC_URL": "http://kulak.test",
    }, environ={"KULAK_INSTANCE": str(instance), "KULAK_MODEL_DIR": MODEL_DIR,
                "KULAK_EGRESS_ALLOW": EGRESS_ALLOW})
    app.config["BACKEND"] = request.param
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(migrated_app):
    """Yield the app inside an app context; empty every table afterwards."""
    with migrated_app.app_context():
        yield migrated_app
        # A job timed seconds ahead (an escalation) must not run during a later test: on
        # SQLite the emptied tables give the next test's rows the same ids.
        jobs.cancel_timers()
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def limited(tmp_path):
    """An app of its own with the rate limits on (the shared test app turns them off)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path / 'limited.db'}", "PUBLIC_URL": "http://kulak.test"},
                     environ={"KULAK_INSTANCE": str(tmp_path), "KULAK_MODEL_DIR": MODEL_DIR,
                              "KULAK_EGRESS_ALLOW": EGRESS_ALLOW})
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        upgrade()
        seed_demo(DEMO_PASSWORD)
        yield app
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """Seed the demo brand and return it."""
    from models import Brand
    seed_demo(DEMO_PASSWORD)
    return db.session.scalar(db.select(Brand).filter_by(slug="demo"))


@pytest.fixture
def smtp(app):
    """A real SMTP server; the app's mail goes to it."""
    inbox = SmtpInbox(free_port()).start()
    app.config["MAIL_URL"] = f"mailto://127.0.0.1:{inbox.port}?from=kulak@example.com"
    yield inbox
    inbox.stop()
    app.config["MAIL_URL"] = None


def start_server(backend, tmp_dir, postgres_schema, extra_env=None, demo=True):
    """Start `kulak serve` with the demo brand on SQLite or a fresh schema, without Redis."""
    # Rate limits off; `tmp_dir` is the instance folder and holds server.log.
    env = {"DATABASE_URL": database_url(backend, tmp_dir, postgres_schema),
           "KULAK_DEMO_PASSWORD": DEMO_PASSWORD, "KULAK_RATE_LIMITS": "off",
           **(extra_env or {}), "REDIS_URL": None}
    return KulakServer(tmp_dir, env, demo=demo).start()


@pytest.fixture(scope="session")
def htmx_installed(tmp_path_factory):
    # Fetched once here (then from npm's cache): each server's `kulak demo` installs them into
    # its own instance folder.
    vendor_dir = tmp_path_factory.mktemp("vendor")
    assets.install(vendor_dir)
    assert assets.all_installed(vendor_dir)


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, tmp_path_factory, postgres_schema, htmx_installed):
    """Yield a running Kulak server with the demo brand, on SQLite and on PostgreSQL."""
    server = start_server(request.param, tmp_path_factory.mktemp(f"live-{request.param}"),
                          postgres_schema)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Yield a real Chromium (Debian's /usr/bin/chromium) driven by Playwright."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def watch(chromium):
    """Open pages in fresh Chromium contexts (JavaScript on or off), watched for console errors
    and sockets; close them after the test."""
    from tests.test_browser import Watched
    opened = []

    def open_page(js=True):
        opened.append(Watched(chromium, js))
        return opened[-1]

    yield open_page
    for watched in opened:
        watched.context.close()


@pytest.fixture
def smtp_inbox():
    """A real SMTP server (aiosmtpd) for the test; yields it, stops it after."""
    inbox = SmtpInbox(free_port()).start()
    yield inbox
    inbox.stop()


@pytest.fixture
def http_receiver():
    """A real local HTTP server that records the posts it receives."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()
