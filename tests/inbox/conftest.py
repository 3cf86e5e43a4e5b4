"""Fixtures of the inbox tests: signed-in staff, the demo staff by name, who is online."""
import pytest
from sqlalchemy import select

from app.realtime.hub import LiveSocket
from models import StaffMember, db

from ..test_hub import RecordingWebSocket
from .staff import Staff


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
