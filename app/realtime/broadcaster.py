"""Carry live events between web processes: Redis pub/sub, or in-process without Redis.

Each process holds one subscription (a pattern on every Kulak channel) and hands what
arrives to its hub, which owns that process's sockets; never one connection per socket.
"""
import json
import logging
import threading
import time

import redis

CHANNEL_PREFIX = "kulak:"
RESYNC_ALL = "*"
CHANNEL_JOIN = "+"  # an event for several channels travels once: "conversation:7+brand:3"
SUBSCRIBE_WAIT_SECONDS = 2
log = logging.getLogger(__name__)


class InProcessBroadcaster:
    """Deliver events to this process's hub directly: the embedded default (one process)."""

    def __init__(self):
        self.deliver = None

    def start(self, deliver):
        self.deliver = deliver

    def publish(self, channels, event):
        if self.deliver is not None:
            self.deliver(as_channels(channels), event)


class RedisBroadcaster:
    """Publish to Redis; one listener per process feeds its hub, reconnecting with backoff."""

    def __init__(self, url, prefix=CHANNEL_PREFIX):
        self.url, self.prefix = url, prefix
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.deliver = None
        self._lock = threading.Lock()
        self._listener = None
        self.subscribed = threading.Event()

    def start(self, deliver):
        """Start this process's one subscription; wait until Redis has confirmed it."""
        with self._lock:
            self.deliver = deliver
            if self._listener is None:
                self._listener = threading.Thread(target=self._listen, daemon=True,
                                                  name="kulak-pubsub")
                self._listener.start()
        # A socket renders its resync after this: no event may fall between the two.
        self.subscribed.wait(SUBSCRIBE_WAIT_SECONDS)

    def publish(self, channels, event):
        # One message for all of an event's channels: one round trip here, one delivery (and
        # one database read) in every process, however many channels listen.
        name = CHANNEL_JOIN.join(as_channels(channels))
        try:
            self.client.publish(self.prefix + name, json.dumps(event))
        except redis.RedisError as error:
            # The message is already committed; pages resync from the database on reconnect.
            log.warning("live event not published (%s): %s", name, error)

    def _listen(self):
        delay, subscribed_before = 0.5, False
        while True:
            try:
                connection = redis.Redis.from_url(self.url, socket_connect_timeout=2,
                                                  health_check_interval=30)
                pubsub = connection.pubsub()
                pubsub.psubscribe(self.prefix + "*")
                for item in pubsub.listen():
                    if item["type"] == "psubscribe":
                        if subscribed_before:
                            # Events published while we were cut off are lost: pages resync.
                            self._deliver_safely((RESYNC_ALL,), {"type": "resync"})
                        delay, subscribed_before = 0.5, True
                        self.subscribed.set()
                    elif item["type"] == "pmessage":
                        channels = item["channel"].decode()[len(self.prefix):]
                        self._deliver_safely(tuple(channels.split(CHANNEL_JOIN)),
                                             json.loads(item["data"]))
            except redis.RedisError as error:
                log.warning("live events: Redis unavailable (%s); retrying in %.1f s", error, delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)

    def _deliver_safely(self, channels, event):
        try:
            self.deliver(channels, event)
        except Exception:  # one bad event must not end this process's only subscription
            log.exception("live event %s on %s failed", event, channels)


def as_channels(channels):
    """Return one channel name or several as a tuple of names."""
    return (channels,) if isinstance(channels, str) else tuple(channels)


def make_broadcaster(redis_url, installation):
    """Return the broadcaster; `installation` keeps Kulaks sharing one Redis apart.

    Pub/sub ignores Redis database numbers, so channels carry the installation's name.
    """
    if not redis_url:
        return InProcessBroadcaster()
    return RedisBroadcaster(redis_url, prefix=f"{CHANNEL_PREFIX}{installation}:")
