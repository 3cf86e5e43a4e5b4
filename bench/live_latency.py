#!/usr/bin/env python3
"""Live delivery latency: a customer posts through process A, a staff socket on process B shows it.

Creates a fresh PostgreSQL schema (dropped at the end), picks a Redis database that holds no
keys, and starts two `kulak serve --workers 1` processes (gunicorn, gevent) on two free ports
of 127.0.0.1, A and B, on that schema and that Redis, with the per-IP rate limits off. It
opens C conversations through A's real help form, signs the demo agent in on B through the
real login form, and opens N WebSockets on B: one staff socket per conversation
(`/inbox/ws?conversation=<id>`, what an agent with the conversation open holds), a few staff
inbox-list sockets (`/inbox/ws`), and customer sockets (`/c/<token>/ws`) for the rest, spread
over the conversations. Then it posts customer messages through A (`POST /c/<token>`, the
real form fields, a unique marker in each body) round-robin over the conversations, and
times each one from just before the POST is sent to the moment the socket on B receives the
frame holding that marker. Two phases: `sequential` (one post at a time, the next after the
previous one has reached every socket of its conversation) and `paced` (an open loop at
--rate posts per second). The load generator is this one process under gevent; it holds all
the sockets and competes with both servers, PostgreSQL and Redis for the same cores: the
output reports the CPU time each side used. Prints exactly one JSON object on stdout;
progress goes to stderr.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
import live_common as lc  # noqa: E402
from cpu_accounting import (  # noqa: E402
    contention,
    cpu_counters,
    cpu_split,
    redis_subscriptions,
    rss_kib,
    wait_for_idle,
)
from ws_client import open_sockets  # noqa: E402

# Issue 17's floors, per phase: the staff socket's delivery latency and B's CPU per post.
FLOORS = {"sequential": {"p50_ms": 10.0, "p99_ms": 25.0, "b_cpu_ms_per_post": 5.0},
          "paced": {"p99_ms": 50.0, "b_cpu_ms_per_post": 5.0}}


def log(*parts):
    """Print a progress line on stderr."""
    print("[live_latency]", *parts, file=sys.stderr, flush=True)


class Tracker:
    """Match the frames sockets receive with the posts whose markers they carry."""

    def __init__(self, customers_per_conversation):
        self.pending = {}  # conversation id -> {marker bytes: record}
        self.customers_per_conversation = customers_per_conversation

    def expect(self, conversation_id, marker):
        """Start waiting for a marker on a conversation's sockets; return its record."""
        record = {
            "conversation_id": conversation_id, "marker": marker, "t0": None, "staff": None,
            "customers": [], "done": gevent.event.Event(), "status": None, "post_s": None,
            "error": None,
        }
        self.pending.setdefault(conversation_id, {})[marker] = record
        return record

    def on_text(self, client, payload, arrived):
        """Note the arrival of every awaited marker a frame holds."""
        if client.label == "inbox":
            return
        waiting = self.pending.get(client.conversation_id)
        if not waiting:
            return
        for marker, record in list(waiting.items()):
            if marker in client.seen or record["t0"] is None or marker not in payload:
                continue
            client.seen.add(marker)
            if client.label == "staff":
                if record["staff"] is None:
                    record["staff"] = arrived - record["t0"]
            else:
                record["customers"].append(arrived - record["t0"])
            expected = self.customers_per_conversation.get(client.conversation_id, 0)
            if record["staff"] is not None and len(record["customers"]) >= expected:
                record["done"].set()
                del waiting[marker]

    def forget(self, record):
        """Stop waiting for a record's marker."""
        self.pending.get(record["conversation_id"], {}).pop(record["marker"], None)


def post_one(poster, tracker, token, conversation_id, seq, tag):
    """Post one message with a fresh marker through A; return its record."""
    marker = f"m{tag}{seq:05d}x{uuid.uuid4().hex[:8]}"
    record = tracker.expect(conversation_id, marker.encode())
    record["t0"] = time.perf_counter()
    try:
        record["status"], record["post_s"] = poster.post(
            token, f"Benchmark message {marker}: is the shower fixed yet?")
        if record["status"] != 303:
            record["error"] = f"HTTP {record['status']}"
    except Exception as error:  # noqa: BLE001 - counted, not fatal
        record["error"] = type(error).__name__
    return record


def run_phase(name, args, poster, tracker, conversations, clients, servers, rate, tap):
    """Post args.posts messages (rate 0: one at a time) and return the phase's figures."""
    log(f"{name}: {args.posts} posts" + (f" at {rate}/s" if rate else ", one at a time"))
    records, lags = [], []
    frames_before = {label: sum(c.frames for c in clients if c.label == label)
                     for label in ("staff", "customer", "inbox")}
    idle = wait_for_idle(args.wait_idle, log)
    events0 = dict(tap.events)
    cpu0, wall0 = cpu_counters(servers), time.perf_counter()
    if rate:
        greenlets = []
        start = time.perf_counter() + 0.05
        for seq in range(args.posts):
            due = start + seq / rate
            gevent.sleep(max(0.0, due - time.perf_counter()))
            lags.append(time.perf_counter() - due)
            token, conversation_id = conversations[seq % len(conversations)]
            greenlets.append(gevent.spawn(post_one, poster, tracker, token, conversation_id,
                                          seq, name[0]))
        gevent.joinall(greenlets, timeout=args.delivery_timeout + 30)
        records = [g.value for g in greenlets if g.value is not None]
        deadline = time.perf_counter() + args.delivery_timeout
        for record in records:
            record["done"].wait(max(0.0, deadline - time.perf_counter()))
    else:
        for seq in range(args.posts):
            token, conversation_id = conversations[seq % len(conversations)]
            record = post_one(poster, tracker, token, conversation_id, seq, name[0])
            record["done"].wait(args.delivery_timeout)
            records.append(record)
    wall = time.perf_counter() - wall0
    cpu = cpu_split(cpu0, cpu_counters(servers), wall)
    for record in records:
        tracker.forget(record)
    frames = {label: sum(c.frames for c in clients if c.label == label) - before
              for label, before in frames_before.items()}
    staff = [r["staff"] for r in records if r["staff"] is not None]
    # Split each staff delivery at the moment the event passed through Redis.
    on_redis, after_redis = [], []
    for r in records:
        seen = tap.first_after(r["conversation_id"], r["t0"])
        if seen is not None and r["staff"] is not None:
            on_redis.append(seen - r["t0"])
            after_redis.append(r["t0"] + r["staff"] - seen)
    first_customer = [min(r["customers"]) for r in records if r["customers"]]
    all_customer = [t for r in records for t in r["customers"]]
    expected_customer = sum(tracker.customers_per_conversation.get(r["conversation_id"], 0)
                            for r in records)
    errors = Counter(r["error"] for r in records if r["error"])
    staff_summary = lc.latency_summary(staff)
    result = {
        "posts": len(records),
        "rate_per_s": rate or "one at a time",
        "achieved_posts_per_s": round(len(records) / wall, 1) if wall else None,
        "staff_socket_on_B": {
            **staff_summary,
            "missing": len(records) - len(staff),
        },
        "customer_sockets_on_B": {
            "first_socket_of_conversation": lc.latency_summary(first_customer),
            "every_socket": lc.latency_summary(all_customer),
            "deliveries": len(all_customer),
            "expected_deliveries": expected_customer,
        },
        "staff_delivery_split_at_redis": {
            "post_to_event_on_redis": lc.latency_summary(on_redis),
            "event_on_redis_to_staff_frame": lc.latency_summary(after_redis),
            "how": ("a Redis pattern subscriber in the load generator notes when A's event "
                    "passes; the first part is A's request up to its PUBLISH, the second is "
                    "B's pub/sub read, renders and socket send"),
        },
        "post_response_on_A": lc.latency_summary(
            [r["post_s"] for r in records if r["post_s"] is not None]),
        "post_errors": dict(errors),
        "redis_events_per_post": {
            channel: round((n - events0.get(channel, 0)) / len(records), 2)
            for channel, n in sorted(tap.events.items()) if records},
        "frames_per_post": {label: round(n / len(records), 2) if records else None
                            for label, n in frames.items()},
        "cpu_seconds_during_phase": cpu,
        "contention": {**contention(cpu), "waited_for_idle": idle},
        # 1000 / B's figure is about the most posts per second B can fan out, with a core
        # to itself.
        "server_cpu_ms_per_post": {
            server: round(1000 * cpu[f"server_{server}"] / len(records), 2) if records else None
            for server in servers},
    }
    floors = FLOORS[name]
    figures = {**staff_summary, "b_cpu_ms_per_post": result["server_cpu_ms_per_post"]["B"]}
    result["floors"] = floors
    result["meets_floors"] = bool(
        staff and not errors and len(staff) == len(records)
        and all(figures[k] is not None and figures[k] <= limit for k, limit in floors.items()))
    if lags:
        result["load_generator_send_lag"] = lc.latency_summary(lags)
    log(f"{name}: staff p50 {staff_summary['p50_ms']} ms, p99 {staff_summary['p99_ms']} ms,"
        f" missing {len(records) - len(staff)}, errors {dict(errors)}")
    return result


def main():
    """Parse the options, measure on a fresh schema and Redis database, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000, help="open sockets on B (1000)")
    parser.add_argument("--conversations", type=int, default=100,
                        help="conversations; each gets one staff socket on B (100)")
    parser.add_argument("--inbox-sockets", type=int, default=10,
                        help="staff inbox-list sockets on B, part of --sockets (10)")
    parser.add_argument("--posts", type=int, default=300, help="posts per phase (300)")
    parser.add_argument("--rate", type=float, default=10,
                        help="posts per second of the paced phase (10)")
    parser.add_argument("--warmup-posts", type=int, default=20, help="uncounted posts (20)")
    lc.add_common_arguments(parser, connect_concurrency=50, delivery_timeout=10)
    args = parser.parse_args()
    if args.sockets < args.conversations + args.inbox_sockets:
        sys.exit("--sockets must be at least --conversations + --inbox-sockets")
    lc.run_live(log, args, args.sockets * 2 + 1024, lambda setup: measure(setup, args),
                demo_password=True)


def measure(setup, args):
    """Start A and B, open the sockets on B, run both phases; return the JSON result."""
    servers = {"A": setup.start_server(1)}
    servers["B"] = setup.start_server(1, demo=False)
    a, b = servers["A"], servers["B"]

    log(f"opening {args.conversations} conversations through A")
    conversations = setup.open_conversations(a.url, args.conversations)
    cookie = setup.staff_cookie(b.url)
    specs = [("staff", cid, f"/inbox/ws?conversation={cid}", cookie)
             for _, cid in conversations]
    specs += [("inbox", None, "/inbox/ws?view=all&status=open", cookie)
              for _ in range(args.inbox_sockets)]
    per_conversation = Counter()
    for n in range(args.sockets - args.conversations - args.inbox_sockets):
        token, cid = conversations[n % len(conversations)]
        specs.append(("customer", cid, f"/c/{token}/ws", ()))
        per_conversation[cid] += 1
    tracker = Tracker(per_conversation)

    rss_b0 = rss_kib(b.worker_pids()[0])
    log(f"opening {len(specs)} sockets on B")
    t = time.perf_counter()
    clients, open_errors = open_sockets(b.port, specs, args.connect_concurrency,
                                        on_text=tracker.on_text)
    open_seconds = time.perf_counter() - t
    log(f"{len(clients)} sockets open in {open_seconds:.1f}s, {len(open_errors)} errors")
    if len(clients) < len(specs):
        tracker.customers_per_conversation = Counter(
            c.conversation_id for c in clients if c.label == "customer")
    subscriptions = {name: redis_subscriptions(s.process.pid) for name, s in servers.items()}

    tap = lc.RedisTap(setup.redis_url)
    poster = lc.Poster(a.port)
    log(f"warm-up: {args.warmup_posts} posts")
    for seq in range(args.warmup_posts):
        token, cid = conversations[seq % len(conversations)]
        record = post_one(poster, tracker, token, cid, seq, "w")
        record["done"].wait(args.delivery_timeout)
        tracker.forget(record)

    phases = {
        "sequential": run_phase("sequential", args, poster, tracker, conversations, clients,
                                servers, 0, tap),
        "paced": run_phase("paced", args, poster, tracker, conversations, clients, servers,
                           args.rate, tap),
    }
    poster.close()
    tap.close()
    still_open = sum(1 for c in clients if not c.closed)
    worker_b, worker_a = b.worker_pids()[0], a.worker_pids()[0]
    for name, server in servers.items():
        if server.process.poll() is not None:
            raise RuntimeError(f"server {name} died: {server.log_tail()}")
    return {
        "benchmark": "live_latency",
        "what": ("customer POST /c/<token> on process A -> frame with the message on "
                 "a staff socket (/inbox/ws?conversation=<id>) held by process B, "
                 "through Redis pub/sub"),
        "headline": {
            "open_sockets_on_B": still_open,
            **{f"{phase}_staff_{k}": phases[phase]["staff_socket_on_B"][k]
               for phase in phases for k in ("p50_ms", "p99_ms")},
            **{f"{phase}_b_cpu_ms_per_post": phases[phase]["server_cpu_ms_per_post"]["B"]
               for phase in phases},
            **{f"{phase}_meets_floors": phases[phase]["meets_floors"] for phase in phases},
            "floors": FLOORS,
        },
        "phases": phases,
        "sockets": {
            "requested": len(specs),
            "opened": len(clients),
            "still_open_at_end": still_open,
            "staff_conversation_sockets": sum(1 for c in clients if c.label == "staff"),
            "staff_inbox_sockets": sum(1 for c in clients if c.label == "inbox"),
            "customer_sockets": sum(1 for c in clients if c.label == "customer"),
            "open_errors": open_errors[:10],
            "open_seconds": round(open_seconds, 2),
            "staff_sessions": ("one signed-in agent; every staff socket shares its "
                               "session, so staff fragments share one CSRF token"),
        },
        "conversations": len(conversations),
        "memory_kib": {
            "worker_B_before_sockets": rss_b0,
            "worker_B_at_end": rss_kib(worker_b),
            "worker_A_at_end": rss_kib(worker_a),
            "load_generator": rss_kib(os.getpid()),
        },
        "redis_subscriptions_per_process": subscriptions,
        "server": setup.server_settings(
            "1 per process, 2 processes (A posts, B holds the sockets)", servers),
        "load_generator": ("this process: gevent, raw-socket WebSocket client "
                           "(bench/ws_client.py), keep-alive http.client posts"),
        "machine": lc.machine_info(),
        "caveat": (
            f"both servers, PostgreSQL, Redis and the load generator share "
            f"{os.cpu_count()} cores; cpu_seconds_during_phase shows who used them. "
            "Redis pub/sub channels are not per database: another Kulak publishing "
            "on the same Redis at the same time would add its events."),
    }


if __name__ == "__main__":
    main()
