"""The least a customer post can do on Kulak's stack: the yardstick of bench/stack_ceiling.py.

A Flask app with one view, `POST /c/<token>`: read the form, find the conversation by its
token, insert the message and touch the conversation in one statement, publish one event on
Redis, answer 303. No validation, classification, idempotency check, outbox or rendering.
Settings come from the environment, because gunicorn imports this module by name:
STACK_CEILING_DSN (SQLAlchemy URL), STACK_CEILING_REDIS, STACK_CEILING_STATEMENTS
(`transaction`: BEGIN, select, write, COMMIT, as Kulak's post; `single`: select and write
in autocommit, the write one atomic statement).
"""
import json
import os

import redis
from flask import Flask, request
from sqlalchemy import create_engine, text

STATEMENTS = os.environ.get("STACK_CEILING_STATEMENTS", "transaction")
# Kulak's most connections per process (10 + 20 overflow), all kept: a pool that closes its
# overflow makes PostgreSQL start a backend per burst, which this light a post turns into churn.
engine = create_engine(
    os.environ["STACK_CEILING_DSN"], pool_size=30, max_overflow=0,
    **({"isolation_level": "AUTOCOMMIT"} if STATEMENTS == "single" else {}))
events = redis.Redis.from_url(os.environ["STACK_CEILING_REDIS"])
FIND = text("SELECT id FROM conversation WHERE token = :token")
WRITE = text(
    "WITH new_message AS (INSERT INTO message (conversation_id, body, client_id, created_at)"
    " VALUES (:id, :body, :client_id, now()) RETURNING id)"
    " UPDATE conversation SET last_message_at = now(), status = 'open' WHERE id = :id"
    " RETURNING (SELECT id FROM new_message)")
app = Flask(__name__)


@app.post("/c/<token>")
def post(token):
    """Store the message and announce it."""
    with engine.begin() as connection:
        conversation_id = connection.execute(FIND, {"token": token}).scalar_one()
        message_id = connection.execute(WRITE, {
            "id": conversation_id, "body": request.form["body"][:4000],
            "client_id": request.form.get("client_id")}).scalar_one()
    events.publish(f"stack-ceiling:conversation:{conversation_id}", json.dumps(
        {"type": "message", "conversation": conversation_id, "message": message_id}))
    return "", 303, {"Location": f"/c/{token}"}
