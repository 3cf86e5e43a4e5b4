"""Fixtures: the app on SQLite and on the real PostgreSQL, a real server, a real Chromium."""
import contextvars
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.core import assets
from app.demo import seed_demo
from models import db
from tests.receivers import SmtpInbox

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
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


@pytest.fixture(scope="session")
def postgres_schema():
    """Return a factory of fresh PostgreSQL schemas in database `test`, all dropped at the end."""
    created = []

    def make():
        name = f"kulak_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {name}")
        created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{name}"

    yield make
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        for name in created:
            connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def database_url(backend, tmp_dir, postgres_schema):
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / 'kulak.db'}"
    return postgres_schema()


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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server; the app's mail goes to it."""
    inbox = SmtpInbox(free_port()).start()
    app.config["MAIL_URL"] = f"mailto://127.0.0.1:{inbox.port}?from=kulak@example.com"
    yield inbox
    inbox.stop()
    app.config["MAIL_URL"] = None


class LiveServer:
    """A real `kulak serve` (gunicorn, gevent workers) in its own process group."""

    def __init__(self, backend, url, env, process):
        self.backend, self.url, self.env, self.process = backend, url, env, process

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def kulak_command(*args):
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def start_server(backend, tmp_dir, postgres_schema, extra_env=None, demo=True):
    port = free_port()
    env = {**os.environ, "KULAK_INSTANCE": str(tmp_dir),
           "DATABASE_URL": database_url(backend, tmp_dir, postgres_schema),
           "KULAK_PUBLIC_URL": f"http://127.0.0.1:{port}", "KULAK_DEMO_PASSWORD": DEMO_PASSWORD,
           "KULAK_RATE_LIMITS": "off", **(extra_env or {})}
    env.pop("REDIS_URL", None)
    if demo:
        subprocess.run(kulak_command("demo"), env=env, check=True, capture_output=True,
                       timeout=120)
    log = open(Path(tmp_dir) / "server.log", "wb")
    process = subprocess.Popen(kulak_command("serve", "--port", str(port)), env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = LiveServer(backend, f"http://127.0.0.1:{port}", env, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((Path(tmp_dir) / "server.log").read_text()[-3000:])
        try:
            if requests.get(server.url + "/healthz", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("kulak serve did not answer /healthz within 30 s")


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
    from tests.receivers import SmtpInbox
    inbox = SmtpInbox(free_port()).start()
    yield inbox
    inbox.stop()


@pytest.fixture
def http_receiver():
    """A real local HTTP server that records the posts it receives."""
    from tests.receivers import HttpReceiver
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()
