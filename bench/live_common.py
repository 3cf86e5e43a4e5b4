"""Share the setup, posts, Redis tap and JSON report of the live benchmarks (under gevent)."""
# The setup is a thin layer over the harness (harness/ at the repository root): the scripts
# put the root on sys.path before importing this module.

import http.client
import json
import os
import platform
import re
import resource
import signal
import time
import uuid
from collections import Counter
from urllib.parse import urlencode

import gevent
import requests

from harness.clients import cookie_header, open_conversation, sign_in
from harness.databases import conversation_ids, fresh_schema, scratch_redis_db
from harness.servers import KulakServer, stop_all

DEMO_STAFF_EMAIL = "agent@demo.example"


# ---------------------------------------------------------------- run setup


def add_common_arguments(parser, connect_concurrency=None, delivery_timeout=None):
    """Add the options the live benchmarks share; the first two only where a default is given."""
    if connect_concurrency is not None:
        parser.add_argument("--connect-concurrency", type=int, default=connect_concurrency,
                            help="WebSocket handshakes in flight while opening (%(default)s)")
    if delivery_timeout is not None:
        parser.add_argument("--delivery-timeout", type=float, default=delivery_timeout,
                            help="seconds a post may take to reach every socket that should "
                                 "show it, before the rest count as missing (%(default)s)")
    parser.add_argument("--wait-idle", type=float, default=0,
                        help="before each measured part, wait up to this many seconds for the "
                             "machine to be nearly idle (0: don't wait)")
    parser.add_argument("--redis-url", default="",
                        help="REDIS_URL (default: the highest-numbered empty database on :6379)")


class Setup:
    """What one live benchmark runs on: a fresh schema, a Redis database, and its servers."""

    def __init__(self, log, schema, dsn, pg_version, redis_url, open_files, password):
        self.log, self.schema, self.pg_version = log, schema, pg_version
        self.redis_url, self.open_files, self.password = redis_url, open_files, password
        self.env = {"DATABASE_URL": dsn, "REDIS_URL": redis_url, "KULAK_RATE_LIMITS": "off",
                    "SECRET_KEY": uuid.uuid4().hex,
                    **({"KULAK_DEMO_PASSWORD": password} if password else {})}
        self.servers = []

    def start_server(self, workers, demo=True):
        """Start `kulak serve` on this schema and Redis; wait for all its workers."""
        # demo=False: a second server on the database the first one seeded.
        server = KulakServer(env=self.env, workers=workers, demo=demo, progress=self.log)
        self.servers.append(server)
        return server.start(timeout=90)

    def open_conversations(self, base, count):
        """Open count conversations through the real help form; return [(token, id)]."""
        with requests.Session() as session:
            tokens = [open_conversation(base, f"Benchmark conversation {n}: the shower is cold.",
                                        session, client_id=uuid.uuid4().hex)
                      for n in range(count)]
        ids = conversation_ids(self.env["DATABASE_URL"], tokens)
        return [(token, ids[token]) for token in tokens]

    def staff_cookie(self, base):
        """Sign the demo agent in; return the Cookie header its sockets send."""
        return [("Cookie", cookie_header(sign_in(base, DEMO_STAFF_EMAIL, self.password)))]

    def server_settings(self, workers, servers):
        """Return the server settings recorded in the output, with what the servers logged."""
        if isinstance(servers, dict):  # {name: server}: the log figures per name
            errors = {name: log_errors(s.log_text()) for name, s in servers.items()}
            counts = {name: log_counts(s.log_text()) for name, s in servers.items()}
        else:
            errors, counts = log_errors(servers.log_text()), log_counts(servers.log_text())
        return {
            "command": "kulak serve (gunicorn)",
            "workers": workers,
            "worker_class": "gevent",
            "worker_connections": 10000,
            "database": "postgresql (fresh schema, dropped at the end)",
            "postgresql_version": self.pg_version,
            "redis": self.redis_url,
            "rate_limits": "off (KULAK_RATE_LIMITS=off)",
            "server_log_warnings_and_errors": errors,
            "server_log_counts": counts,
        }


def run_live(log, args, open_files, measure, demo_password=False):
    """Run measure(setup) on a fresh schema and Redis database; print the result it returns."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so the finally blocks clean up
    open_files = raise_open_files(open_files)
    password = uuid.uuid4().hex if demo_password else None
    with scratch_redis_db(args.redis_url) as redis_url, \
            fresh_schema(log) as (schema, dsn, pg_version):
        setup = Setup(log, schema, dsn, pg_version, redis_url, open_files, password)
        try:
            result = measure(setup)
        finally:
            stop_all(setup.servers)
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result, indent=2))


def _exit_on_signal(signum, frame):
    """Turn a signal (SIGTERM from `timeout`, say) into SystemExit."""
    raise SystemExit(f"stopped by signal {signum}")


def raise_open_files(wanted):
    """Raise this process's soft limit on open files (the server inherits it); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- posts and the Redis tap


class Poster:
    """Customer message posts on keep-alive HTTP connections, like the real form does."""

    def __init__(self, port, timeout=30):
        self.port, self.timeout = port, timeout
        self.idle = []

    def post(self, token, body, lang="en"):
        """POST /c/<token> with body and a fresh client_id; return (status, seconds) or raise."""
        # gunicorn closes a keep-alive connection after 2 idle seconds: a reused connection
        # that fails before any answer is retried once on a new one, as browsers do.
        data = urlencode({"body": body, "client_id": uuid.uuid4().hex, "lang": lang})
        began = time.perf_counter()
        reused = bool(self.idle)
        while True:
            conn = self.idle.pop() if self.idle else http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=self.timeout)
            try:
                conn.request("POST", f"/c/{token}", body=data, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept-Encoding": "identity"})
                response = conn.getresponse()
                response.read()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                conn.close()
                if not reused:
                    raise
                reused = False
                self.idle.clear()  # the others have idled as long: start afresh
            except (OSError, http.client.HTTPException):
                conn.close()
                raise
        took = time.perf_counter() - began
        if response.will_close:
            conn.close()
        else:
            self.idle.append(conn)
        return response.status, took

    def close(self):
        """Close every idle connection."""
        for conn in self.idle:
            conn.close()
        self.idle = []


class RedisTap:
    """Listen on Kulak's Redis channels like a web process does, and note when events pass."""

    # A customer post publishes `kulak:<installation>:conversation:<id>` with a
    # customer_message_id: the moment the tap sees it splits a delivery into "posted and
    # published" and "rendered and sent".

    def __init__(self, redis_url):
        import redis

        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe("kulak:*")
        self.customer_posts = {}  # conversation id -> [perf_counter of each event seen]
        self.events = Counter()
        self.greenlet = gevent.spawn(self._listen)

    def _listen(self):
        """Count each event by channel kind and type; note when customer posts pass."""
        try:
            for item in self.pubsub.listen():
                seen = time.perf_counter()
                channel = item["channel"].decode()
                try:
                    event = json.loads(item["data"])
                except ValueError:
                    continue
                # kulak:<installation>:<kind>:<id>[+<kind>:<id>...]: the first names the event
                kind = channel.split(":", 2)[2].split(":")[0]
                self.events[kind + ":" + str(event.get("type"))] += 1
                if kind == "conversation" and event.get("customer_message_id"):
                    self.customer_posts.setdefault(event.get("conversation_id"), []).append(seen)
        except Exception:  # noqa: BLE001 - the tap is optional; its figures just stop
            return

    def first_after(self, conversation_id, moment):
        """Return the first moment >= `moment` a customer post of that conversation passed."""
        return next((t for t in self.customer_posts.get(conversation_id, ()) if t >= moment),
                    None)

    def close(self):
        """Stop listening."""
        self.greenlet.kill(block=False)
        try:
            self.pubsub.close()
            self.client.close()
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------- report


def percentile(ordered, fraction):
    """Return the nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def ms(value):
    """Convert seconds to rounded milliseconds."""
    return None if value is None else round(value * 1000, 2)


def latency_summary(seconds):
    """Return count, p50, p90, p99, max and mean in ms of a list of durations in seconds."""
    ordered = sorted(seconds)
    return {
        "count": len(ordered),
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p90_ms": ms(percentile(ordered, 0.90)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1] if ordered else None),
        "mean_ms": ms(sum(ordered) / len(ordered) if ordered else None),
    }


def machine_info():
    """Return what the output records about the machine."""
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                         None)
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as f:
            memory = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


LOG_PATTERNS = {
    "request_exceptions": r"ERROR in app: Exception on",
    "live_render_failed": r"rendering .* failed",
    "live_event_failed": r"live event .* failed",
    "live_event_not_published": r"live event not published",
    "db_pool_timeouts": r"QueuePool limit",
    "worker_timeouts": r"WORKER TIMEOUT",
}


def log_errors(text, limit=10):
    """Return the tracebacks and error lines of a server log (not the access log)."""
    wanted = [
        ln[:300]
        for ln in text.splitlines()
        if re.search(r"Traceback|Error|Exception|Warning|\[CRITICAL\]|\[ERROR\]|WORKER TIMEOUT", ln)
    ]
    return list(dict.fromkeys(wanted))[:limit]


def log_counts(text):
    """Count the server log's lines of a few kinds that explain missing frames or errors."""
    return {name: len(re.findall(pattern, text)) for name, pattern in LOG_PATTERNS.items()}
