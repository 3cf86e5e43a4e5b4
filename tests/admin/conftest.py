"""Fixtures of the brand setup tests: the demo's admin signed in, and a second brand."""
import pytest

from app.admin.setup import create_brand
from models import db

from ..inbox.staff import Staff


@pytest.fixture
def admin(app, demo):
    """The demo brand's admin, signed in with a browser of their own."""
    return Staff(app, "admin@demo.example")


@pytest.fixture
def other_brand(app, demo):
    """A second brand, made as an operator makes one; returns (brand, its admin, link token)."""
    brand, owner, token = create_brand("other-hotel", "Other Hotel", "owner@other.example")
    db.session.expire_all()
    return brand, owner, token
