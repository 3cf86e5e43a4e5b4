"""Fixtures of the inbox tests: a signed-in agent and the demo staff by name."""
import pytest
from sqlalchemy import select

from models import StaffMember, db

from .staff import Staff


@pytest.fixture
def agent(app, demo):
    return Staff(app, "agent@demo.example")


@pytest.fixture
def people(demo):
    return {s.email.split("@")[0]: s for s in db.session.scalars(select(StaffMember))}
