"""Check a pooled database connection before use only when it has sat idle.

A ping on every checkout (SQLAlchemy's `pool_pre_ping`) costs a round trip per request. A
connection returned moments ago is almost surely alive; one that sat idle may have been cut
by a database restart or a firewall, so that one is pinged, and replaced if dead.
"""
import time

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

IDLE_BEFORE_PING_SECONDS = 5.0


@event.listens_for(Pool, "checkin")
def _note_return(dbapi_connection, connection_record):
    connection_record.info["returned_at"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, connection_proxy):
    returned_at = connection_record.info.get("returned_at")
    if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING_SECONDS:
        return  # new, or back in the pool a moment ago
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # leave no transaction open behind the ping
    except Exception as error:  # noqa: BLE001 - any failure means: use another connection
        raise exc.DisconnectionError(str(error)) from error
