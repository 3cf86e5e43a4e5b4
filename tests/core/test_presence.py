"""Who is typing: noted per process without Redis, in Redis for every process with it."""
import time
import uuid

import pytest
import redis

from app.core import presence
from app.core.presence import LocalPresence, RedisPresence

REDIS_URL = "redis://127.0.0.1:6379/12"


def both():
    prefix = f"kulak:test-{uuid.uuid4().hex}:"
    return {"local": (LocalPresence(),) * 2,
            "redis": (RedisPresence(REDIS_URL, prefix), RedisPresence(REDIS_URL, prefix))}


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_typing_is_seen_by_name_until_it_stops(kind):
    writer, reader = both()[kind]
    assert reader.typist(7, "staff") is None
    writer.typing(7, "staff", "Ayşe Demir")
    writer.typing(7, "customer", "")  # a customer who gave no name still types
    assert reader.typist(7, "staff") == "Ayşe Demir"
    assert reader.typist(7, "customer") == ""
    assert reader.typist(8, "staff") is None
    writer.stopped_typing(7, "staff")
    assert reader.typist(7, "staff") is None
    assert reader.typist(7, "customer") == ""


def test_a_typing_line_expires_by_itself(monkeypatch):
    monkeypatch.setattr(presence, "TYPING_SHOWN_SECONDS", 1)
    prefix = f"kulak:test-{uuid.uuid4().hex}:"
    local, shared = LocalPresence(), RedisPresence(REDIS_URL, prefix)
    for store in (local, shared):
        store.typing(3, "staff", "Can")
    assert redis.Redis.from_url(REDIS_URL).ttl(f"{prefix}typing:3:staff") == 1
    time.sleep(1.1)
    assert local.typist(3, "staff") is None and shared.typist(3, "staff") is None
