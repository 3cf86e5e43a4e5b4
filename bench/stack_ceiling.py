#!/usr/bin/env python3
"""What the stack itself allows: customer posts per second of a post that does almost nothing.

Issue 3's post floor (500/s at p99 <= 100 ms) is measured by bench/post_throughput.py on
Kulak's real post. This script runs the same load, from the same load generator, against
`bench/stack_ceiling_app.py`: Flask under gunicorn with gevent workers (Kulak's settings:
`--workers 2`, 10,000 worker connections, access log on), SQLAlchemy and psycopg on a fresh
PostgreSQL schema, redis-py publishing on the local Redis. That post reads the form, finds the
conversation by token, writes the message in one statement and publishes one event; it does
not validate, classify, check for a retry or render. Two variants:

- `transaction`: BEGIN, select, write, COMMIT: Kulak's four round trips to PostgreSQL;
- `single`: select and write in autocommit: two round trips.

Each variant runs a closed loop (--concurrency clients) and an open loop (--rate per second),
after a warm-up. The output also times Kulak's own classifier on a message in this process,
the one step of a real post that needs no I/O. Prints one JSON object; progress on stderr.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import psycopg  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
import live_common as lc  # noqa: E402
import post_load  # noqa: E402
from cpu_accounting import contention, cpu_counters, cpu_split, wait_for_idle  # noqa: E402

from harness.databases import ADMIN_DSN, fresh_schema, scratch_redis_db  # noqa: E402
from harness.servers import SkeletonServer  # noqa: E402

VARIANTS = ("transaction", "single")
SCHEMA = """
CREATE TABLE conversation (id serial PRIMARY KEY, token text UNIQUE NOT NULL,
                           status text NOT NULL, last_message_at timestamptz);
CREATE TABLE message (id serial PRIMARY KEY, conversation_id int NOT NULL REFERENCES conversation,
                      body text NOT NULL, client_id text, created_at timestamptz NOT NULL,
                      UNIQUE (conversation_id, client_id));
CREATE INDEX ON message (conversation_id);
"""


def log(*parts):
    """Print a progress line on stderr."""
    print("[stack_ceiling]", *parts, file=sys.stderr, flush=True)


def skeleton(workers, dsn, redis_url, variant):
    """Start the skeleton app on the schema and Redis, with one variant's statements."""
    return SkeletonServer(workers, {"STACK_CEILING_DSN": dsn, "STACK_CEILING_REDIS": redis_url,
                                    "STACK_CEILING_STATEMENTS": variant}).start()


def seed(schema, count):
    """Create the two tables and count conversations; return [(token, id)]."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'SET search_path TO "{schema}"')
        admin.execute(SCHEMA)
        rows = [(secrets.token_urlsafe(24),) for _ in range(count)]
        with admin.cursor() as cursor:
            cursor.executemany("INSERT INTO conversation (token, status) VALUES (%s, 'open')",
                               rows)
        return admin.execute("SELECT token, id FROM conversation").fetchall()


CLASSIFIER_TIMING = """
import json, time
from classifier import load_or_build
model = load_or_build()
texts = ["Benchmark message: is the shower fixed yet?", "Klima calismiyor, yardim edin",
         "Can I get a late checkout tomorrow?"]
result = {}
for explain in (False, True):
    times = []
    for i in range(650):
        began = time.perf_counter()
        model.predict(texts[i % 3], touchpoint_kind="room", explain=explain)
        times.append(time.perf_counter() - began)
    times = sorted(times[50:])
    result["with_why" if explain else "without_why"] = round(1000 * times[len(times) // 2], 3)
print(json.dumps(result))
"""


def classifier_ms():
    """Return the p50 ms of one prediction of Kulak's shipped model, without and with the why."""
    # In a child process: this folder holds a bench/classifier.py that shadows the package.
    done = subprocess.run([sys.executable, "-c", CLASSIFIER_TIMING], capture_output=True,
                          text=True, cwd=os.path.dirname(BENCH), check=True, timeout=300)
    return json.loads(done.stdout)


def run_mode(server, mode, conversations, args):
    """Run one load mode against server; return its entry."""
    idle = wait_for_idle(args.wait_idle, log)
    cpu0, wall0 = cpu_counters({"web": server}), time.perf_counter()
    if mode == "closed":
        run, _ = post_load.closed_loop(server.port, conversations, post_load.Deliveries(),
                                       args.concurrency, args.seconds, args.warmup)
    else:
        run, _ = post_load.open_loop(server.port, conversations, post_load.Deliveries(),
                                     args.rate, args.seconds, args.warmup, args.max_connections,
                                     args.drain)
    cpu = cpu_split(cpu0, cpu_counters({"web": server}), time.perf_counter() - wall0)
    side = cpu["server_web"] + cpu["postgresql_backends"] + cpu["redis"]
    summary = lc.latency_summary(run.latencies)
    achieved = round(run.answered_in_window / args.seconds, 1)
    errors = sum(run.errors.values())
    return {
        "posts_per_s": achieved, "latency": summary, "errors": errors,
        "error_kinds": dict(run.errors),
        "meets_issue_3_floor": bool(achieved >= post_load.FLOOR["posts_per_s"] * 0.99 and not errors
                                    and summary["p99_ms"] is not None
                                    and summary["p99_ms"] <= post_load.FLOOR["p99_ms"]),
        "cpu_seconds_during_run": cpu,
        "server_ms_per_post": round(1000 * cpu["server_web"] / run.completed, 2)
        if run.completed else None,
        "server_side_ms_per_post": round(1000 * side / run.completed, 2)
        if run.completed else None,
        "contention": {**contention(cpu), "waited_for_idle": idle},
    }


def main():
    """Measure each variant in each mode on a fresh schema; print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    post_load.add_load_arguments(parser)  # the same load, the same defaults
    args = parser.parse_args()
    lc.raise_open_files(4096)
    started = time.perf_counter()
    classifier = classifier_ms()
    runs = {}
    with scratch_redis_db(args.redis_url) as redis_url, \
            fresh_schema(log) as (schema, dsn, version):
        conversations = seed(schema, args.conversations)
        for variant in VARIANTS:
            server = skeleton(args.workers, dsn, redis_url, variant)
            try:
                for mode in args.modes.split(","):
                    name = f"{variant}_{mode}"
                    runs[name] = run_mode(server, mode, conversations, args)
                    log(f"{name}: {runs[name]['posts_per_s']} posts/s, p99 "
                        f"{runs[name]['latency']['p99_ms']} ms")
            finally:
                server.stop()
    print(json.dumps({
        "benchmark": "stack_ceiling",
        "what": ("POST /c/<token> on a skeleton of Kulak's stack (Flask, gunicorn gevent, "
                 "SQLAlchemy + psycopg, PostgreSQL, Redis publish) that does no work of its own"),
        "headline": {name: {"posts_per_s": r["posts_per_s"], "p99_ms": r["latency"]["p99_ms"],
                            "server_side_ms_per_post": r["server_side_ms_per_post"]}
                     for name, r in runs.items()},
        "floor": post_load.FLOOR,
        "runs": runs,
        "classifier_ms_per_message_p50": classifier,
        "settings": {"workers": args.workers, "worker_class": "gevent",
                     "worker_connections": 10000, "concurrency": args.concurrency,
                     "rate": args.rate, "seconds": args.seconds, "warmup": args.warmup,
                     "conversations": args.conversations, "postgresql_version": version,
                     "redis": redis_url},
        "machine": lc.machine_info(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
