"""Fixtures of the customer-side tests."""
import pytest
import sqlalchemy as sa

from models import db


@pytest.fixture
def gateway(demo, http_receiver):
    """The demo brand's SMS gateway: a real local HTTP server that takes Apprise's json://."""
    demo.sms_url = f"json://127.0.0.1:{http_receiver.port}/sms"
    db.session.commit()
    return http_receiver


@pytest.fixture
def live_gateway(live_server, http_receiver):
    """The live server's demo brand texts through a real local gateway, for this test only."""
    engine = sa.create_engine(live_server.env["DATABASE_URL"], poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE brand SET sms_url = :url WHERE slug = 'demo'"),
                           {"url": f"json://127.0.0.1:{http_receiver.port}/sms"})
    yield http_receiver
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE brand SET sms_url = NULL WHERE slug = 'demo'"))
    engine.dispose()
