"""Fixtures of the mail tests: one real SMTP server per module, the app pointed at it."""
import pytest

from app.mail import sending
from models import OutgoingMail, db

from ..conftest import free_port
from ..inbox.staff import Staff
from ..receivers import SmtpInbox, wait_for

# The URL's own to= and cc= name addresses that must never receive Kulak's mail.
LEAKS = ("operator@example.com", "copy@example.com")


@pytest.fixture(scope="module")
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port, for every test of the module."""
    server = SmtpInbox(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server):
    """The module's SMTP server, emptied for this test."""
    smtp_server.messages.clear()
    yield smtp_server
    smtp_server.messages.clear()


def mail_url(server):
    return server.url(LEAKS[0]) + f"&cc={LEAKS[1]}"


@pytest.fixture
def mailing(app, inbox, monkeypatch):
    """The app sending through the module's SMTP server; yields the server."""
    monkeypatch.setitem(app.config, "MAIL_URL", mail_url(inbox))
    yield inbox


@pytest.fixture
def quick_retries(monkeypatch):
    """Retries a fraction of a second apart instead of minutes: the same code, sooner."""
    monkeypatch.setattr(sending, "BACKOFF_SECONDS", (0.1, 0.1, 0.1, 0.1))


@pytest.fixture
def admin(app, demo):
    return Staff(app, "admin@demo.example")


def mail_row(mail_id):
    """The mail as the database has it now (another thread may have changed it)."""
    db.session.rollback()
    return db.session.get(OutgoingMail, mail_id, populate_existing=True)


def settled(mail_id, seconds=15):
    """Wait until the mail is sent or failed (no retry timer left running); return it."""
    assert wait_for(lambda: mail_row(mail_id).status in ("sent", "failed"), seconds), \
        mail_row(mail_id)
    return mail_row(mail_id)
