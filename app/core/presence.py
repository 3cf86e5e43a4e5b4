"""Who of a brand's staff is online (an inbox page open), and who is typing in a conversation.

Without Redis one process holds every socket, so its own count is the truth. With Redis each
process writes its online staff into a sorted set per brand, scored by when the entry expires,
and refreshes them on a heartbeat: a process that dies stops refreshing, and its staff drop
out within PRESENCE_TTL seconds. Typing is a key that expires as the typing line does, so a
page without script, served by any process, shows it too.
"""
import logging
import threading
import time
import uuid
from collections import Counter, defaultdict

import redis
from flask import current_app

PRESENCE_TTL = 60
HEARTBEAT_SECONDS = 20
TYPING_SHOWN_SECONDS = 6  # how long a typing line stays after the last keystroke signal
log = logging.getLogger(__name__)


class LocalPresence:
    """Presence from this process's sockets only: the embedded default."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sockets = defaultdict(Counter)  # brand id -> {staff id: open sockets}
        self.typists = {}  # (conversation id, who) -> (name, until when, monotonic)

    def arrive(self, brand_id, staff_id):
        with self.lock:
            self.sockets[brand_id][staff_id] += 1
            return self.sockets[brand_id][staff_id] == 1

    def leave(self, brand_id, staff_id):
        with self.lock:
            self.sockets[brand_id][staff_id] -= 1
            if self.sockets[brand_id][staff_id] > 0:
                return False
            del self.sockets[brand_id][staff_id]
            return True

    def local(self, brand_id):
        with self.lock:
            return set(self.sockets[brand_id])

    def online(self, brand_id):
        """Return the ids of the brand's staff who have an inbox page open."""
        return self.local(brand_id)

    def typing(self, conversation_id, who, name):
        """Note that `who` ("staff" or "customer") is typing in the conversation, as `name`."""
        with self.lock:
            self.typists[(conversation_id, who)] = (name, time.monotonic() + TYPING_SHOWN_SECONDS)

    def stopped_typing(self, conversation_id, who):
        with self.lock:
            self.typists.pop((conversation_id, who), None)

    def typist(self, conversation_id, who):
        """Return the name `who` is typing under in the conversation ("" if unnamed), or None."""
        with self.lock:
            name, until = self.typists.get((conversation_id, who), (None, 0))
            return name if time.monotonic() < until else None


class RedisPresence(LocalPresence):
    """Presence shared by every web process through Redis."""

    def __init__(self, url, prefix):
        super().__init__()
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self.process = uuid.uuid4().hex[:12]
        self._heartbeat = None

    def _key(self, brand_id):
        return f"{self.prefix}presence:{brand_id}"

    def _member(self, staff_id):
        return f"{staff_id}:{self.process}"

    def arrive(self, brand_id, staff_id):
        first = super().arrive(brand_id, staff_id)
        if first:
            self._write(brand_id, [staff_id])
        self._start_heartbeat()
        return first

    def leave(self, brand_id, staff_id):
        last = super().leave(brand_id, staff_id)
        if last:
            try:
                self.client.zrem(self._key(brand_id), self._member(staff_id))
            except redis.RedisError as error:
                log.warning("presence not cleared (expires by itself): %s", error)
        return last

    def online(self, brand_id):
        key, now = self._key(brand_id), time.time()
        try:
            members = self.client.zrangebyscore(key, now, "+inf")
        except redis.RedisError as error:
            log.warning("presence unavailable, using this process's sockets: %s", error)
            return self.local(brand_id)
        return {int(member.decode().split(":", 1)[0]) for member in members}

    def _typing_key(self, conversation_id, who):
        return f"{self.prefix}typing:{conversation_id}:{who}"

    def typing(self, conversation_id, who, name):
        try:
            self.client.set(self._typing_key(conversation_id, who), name.encode(),
                            ex=TYPING_SHOWN_SECONDS)
        except redis.RedisError as error:  # the live line still shows; only the frame misses it
            log.warning("typing not noted: %s", error)

    def stopped_typing(self, conversation_id, who):
        try:
            self.client.delete(self._typing_key(conversation_id, who))
        except redis.RedisError as error:
            log.warning("typing not cleared (expires by itself): %s", error)

    def typist(self, conversation_id, who):
        try:
            name = self.client.get(self._typing_key(conversation_id, who))
        except redis.RedisError as error:
            log.warning("typing unavailable: %s", error)
            return None
        return None if name is None else name.decode()

    def _write(self, brand_id, staff_ids):
        key, expires = self._key(brand_id), time.time() + PRESENCE_TTL
        try:
            pipe = self.client.pipeline()
            pipe.zadd(key, {self._member(staff_id): expires for staff_id in staff_ids})
            pipe.zremrangebyscore(key, "-inf", time.time())  # other processes' dead entries
            pipe.execute()
        except redis.RedisError as error:
            log.warning("presence not written (retried on the next heartbeat): %s", error)

    def _start_heartbeat(self):
        with self.lock:
            if self._heartbeat is not None:
                return
            self._heartbeat = threading.Thread(target=self._beat, daemon=True,
                                               name="kulak-presence")
        self._heartbeat.start()

    def _beat(self):
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            with self.lock:
                online = {brand: list(staff) for brand, staff in self.sockets.items() if staff}
            for brand_id, staff_ids in online.items():
                self._write(brand_id, staff_ids)


def make_presence(redis_url, prefix):
    return RedisPresence(redis_url, prefix) if redis_url else LocalPresence()


def current_presence():
    """Return this app's presence: who is online, who is typing (set up by app.realtime)."""
    return current_app.extensions["kulak_presence"]
