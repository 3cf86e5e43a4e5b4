"""A pooled connection that died while idle is replaced before a request can use it."""
import psycopg
import pytest
from sqlalchemy import create_engine, text

import models.pool
from tests.conftest import POSTGRES


@pytest.fixture
def engine():
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", pool_size=1)
    yield engine
    engine.dispose()


def backend_pid(engine):
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def terminate(pid):
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_an_idle_connection_cut_by_the_server_is_replaced(engine, monkeypatch):
    monkeypatch.setattr(models.pool, "IDLE_BEFORE_PING_SECONDS", 0.0)
    first = backend_pid(engine)
    terminate(first)
    second = backend_pid(engine)  # would raise "terminating connection" without the ping
    assert second != first
    assert backend_pid(engine) == second  # the healthy one is kept, not replaced again


def test_a_connection_returned_a_moment_ago_is_used_without_a_ping(engine, monkeypatch):
    monkeypatch.setattr(models.pool, "IDLE_BEFORE_PING_SECONDS", 60.0)
    first = backend_pid(engine)
    terminate(first)
    with pytest.raises(Exception, match="terminat|closed|server"):
        backend_pid(engine)
    assert backend_pid(engine) != first  # the failure invalidated it: the next one is new
