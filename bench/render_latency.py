#!/usr/bin/env python3
"""Render latency and throughput of the customer pages, on gunicorn (gevent) + PostgreSQL.

Creates a fresh PostgreSQL schema (dropped at the end), runs `kulak demo` and
`kulak serve --workers N` against it with the per-IP rate limits off, opens some
conversations through the real form, then for each URL runs a closed-loop load: C client
threads, each with its own keep-alive http.client.HTTPConnection, sending the next request as
soon as the previous answer is read, for D seconds (after a short warm-up that is not counted).
The load generator runs on the same machine as the server and competes with it for the CPU;
the output says so and reports the CPU time each side used. Prints exactly one JSON object on
stdout; progress goes to stderr.
"""

import argparse
import http.client
import json
import os
import platform
import random
import sys
import threading
import time
import uuid
from collections import Counter

import requests

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
from cpu_accounting import (  # noqa: E402
    cpu_seconds,
    group_cpu_seconds,
    group_pids,
    machine_busy_seconds,
    own_cpu_seconds,
    socket_inodes,
    tcp_local_ports_to,
)
from live_common import log_errors, percentile  # noqa: E402

from harness.clients import SURVEY_PATH, customer_post, open_conversation  # noqa: E402
from harness.databases import fresh_schema  # noqa: E402
from harness.servers import KulakServer  # noqa: E402


def log(*parts):
    """Print a progress line on stderr."""
    print("[render_latency]", *parts, file=sys.stderr, flush=True)


def postgres_cpu_seconds():
    """Return the CPU seconds of the live processes named postgres (all backends)."""
    return cpu_seconds(lambda name, fields: name == "postgres")


def postgres_connections_by_pid(pgid, pg_port=5432):
    """Count each group process's open TCP connections to PostgreSQL, as {pid: count}."""
    to_pg = tcp_local_ports_to(pg_port)  # inodes of the ESTABLISHED sockets
    counts = {}
    for pid in group_pids(pgid):
        inodes = socket_inodes(pid)
        if inodes is not None:
            counts[pid] = sum(1 for inode in inodes if inode in to_pg)
    return counts


def cpu_counters(pgid):
    """Read the CPU seconds used so far by the server, this process, PostgreSQL and the machine."""
    return {
        "server": group_cpu_seconds(pgid),
        "load_generator": own_cpu_seconds(),
        "postgresql": postgres_cpu_seconds(),
        "machine_busy": machine_busy_seconds(),
    }


def open_conversations(base, count):
    """Open count conversations of three messages each, and return their tokens."""
    session = requests.Session()
    tokens = [open_conversation(base, f"Benchmark conversation {n}: the shower in my room is "
                                "cold.", session, client_id=uuid.uuid4().hex)
              for n in range(count)]
    # Give each conversation a couple more messages, so the page renders a real thread.
    for token in tokens:
        for text in ("Still waiting, thank you.", "Any news?"):
            customer_post(base, f"/c/{token}", text, session, client_id=uuid.uuid4().hex)
    return tokens


def load(port, next_path, concurrency, seconds, warmup, sample=None):
    """Run a closed loop: each thread sends, reads the whole answer, and sends again."""
    start_barrier = threading.Barrier(concurrency + 1)
    clock = {}
    results = [None] * concurrency

    def client(index):
        """Send requests on one keep-alive connection until the time is up."""
        rng = random.Random(index)
        latencies, statuses, errors = [], Counter(), Counter()
        completed = 0  # warm-up included, to relate the server's CPU time to requests
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_barrier.wait()
        measure_from, stop_at = clock["measure_from"], clock["stop_at"]
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                break
            path = next_path(rng)
            try:
                conn.request("GET", path, headers={"Accept-Encoding": "identity"})
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if began >= measure_from:
                    errors[type(error).__name__] += 1
                continue
            ended = time.perf_counter()
            completed += 1
            if began >= measure_from:
                latencies.append(ended - began)
                statuses[status] += 1
                if status != 200:
                    errors[f"HTTP {status}"] += 1
        conn.close()
        results[index] = (latencies, statuses, errors, completed)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    clock["measure_from"] = now + warmup
    clock["stop_at"] = now + warmup + seconds
    start_barrier.wait()
    samples = []
    if sample is not None:  # a few looks at the server while the load runs
        for moment in (0.25, 0.5, 0.75):
            time.sleep(max(0.0, clock["measure_from"] + seconds * moment - time.perf_counter()))
            samples.append(sample())
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    latencies, statuses, errors, completed = [], Counter(), Counter(), 0
    for result in results:
        if result is None:
            errors["client thread did not finish"] += 1
            continue
        latencies.extend(result[0])
        statuses.update(result[1])
        errors.update(result[2])
        completed += result[3]
    return latencies, statuses, errors, completed, samples


def summarize(latencies, statuses, errors, seconds):
    """Return the throughput, latency percentiles and errors of one run."""
    ordered = sorted(latencies)

    def ms(value):
        """Convert seconds to rounded milliseconds."""
        return None if value is None else round(value * 1000, 2)

    return {
        "requests": len(ordered),
        "requests_per_s": round(len(ordered) / seconds, 1),
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p90_ms": ms(percentile(ordered, 0.90)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1] if ordered else None),
        "mean_ms": ms(sum(ordered) / len(ordered) if ordered else None),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
    }


def main():
    """Start a server on a fresh schema, load each URL, and print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32, help="client threads (32)")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per URL (10)")
    parser.add_argument("--warmup", type=float, default=2, help="uncounted warm-up seconds (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--conversations", type=int, default=50, help="conversations to open")
    parser.add_argument(
        "--psycopg-wait-func",
        default="",
        help="PSYCOPG_WAIT_FUNC for the server, e.g. wait_select (default: unset, psycopg chooses)",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="REDIS_URL for the server (default: unset, embedded backends)",
    )
    args = parser.parse_args()

    started = time.monotonic()
    result = None
    with fresh_schema(log) as (schema, dsn, server_version):
        env = {  # None unsets; the instance folder holds the secret key, nothing else
            "DATABASE_URL": dsn,
            "KULAK_RATE_LIMITS": "off",
            "SECRET_KEY": uuid.uuid4().hex,
            "REDIS_URL": args.redis_url or None,
            "PSYCOPG_WAIT_FUNC": args.psycopg_wait_func or None,
        }
        server = KulakServer(env=env, workers=args.workers, progress=log)
        try:
            server.start()
            tokens = open_conversations(server.url, args.conversations)
            log(f"{len(tokens)} conversations opened")
            targets = (
                ("survey_page", SURVEY_PATH, lambda rng: SURVEY_PATH),
                ("conversation_page", "/c/<random token>", lambda rng: "/c/" + rng.choice(tokens)),
            )
            runs = {}
            for name, label, next_path in targets:
                log(f"{name}: {args.concurrency} clients, {args.warmup}s warm-up + {args.seconds}s")
                cpu0, load0, wall0 = (
                    cpu_counters(server.process.pid),
                    os.getloadavg(),
                    time.monotonic(),
                )
                latencies, statuses, errors, completed, samples = load(
                    server.port,
                    next_path,
                    args.concurrency,
                    args.seconds,
                    args.warmup,
                    sample=lambda: postgres_connections_by_pid(server.process.pid),
                )
                wall = time.monotonic() - wall0
                cpu = {k: v - cpu0[k] for k, v in cpu_counters(server.process.pid).items()}
                cpu["other_processes"] = max(
                    0.0,
                    cpu["machine_busy"] - cpu["server"] - cpu["load_generator"] - cpu["postgresql"],
                )
                cpu = {k: round(v, 2) for k, v in cpu.items()}
                cpu["available"] = round(wall * (os.cpu_count() or 1), 2)
                cpu["wall_seconds"] = round(wall, 2)
                cpu["machine_utilization"] = round(cpu["machine_busy"] / cpu["available"], 2)
                cpu["server_ms_per_request"] = (
                    round(1000 * cpu["server"] / completed, 2) if completed else None
                )
                runs[name] = {
                    "url": label,
                    **summarize(latencies, statuses, errors, args.seconds),
                    "cpu_seconds_during_run": cpu,
                    # Per gunicorn process (the arbiter holds none): how many requests
                    # a worker can have waiting on PostgreSQL at once.
                    "postgresql_connections_per_process_mid_run": [
                        sorted(sample.values(), reverse=True) for sample in samples
                    ],
                    "load_average_before": [round(x, 2) for x in load0],
                }
                log(
                    f"{name}: {runs[name]['requests_per_s']} req/s, p50 {runs[name]['p50_ms']} ms,"
                    f" p99 {runs[name]['p99_ms']} ms, errors {runs[name]['errors']}"
                )
            if server.process.poll() is not None:
                raise RuntimeError(f"server died during the run: {server.log_tail()}")
            result = {
                "benchmark": "render_latency",
                "mode": "closed loop, keep-alive connections (http.client), one per client thread",
                "concurrency": args.concurrency,
                "seconds_per_url": args.seconds,
                "warmup_seconds_per_url": args.warmup,
                "conversations": len(tokens),
                "runs": runs,
                "server": {
                    "command": "kulak serve",
                    "workers": args.workers,
                    "worker_class": "gevent",
                    "database": "postgresql",
                    "postgresql_version": server_version,
                    "redis": args.redis_url or "unset (embedded default)",
                    "rate_limits": "off",
                    "psycopg_wait_func": args.psycopg_wait_func or "unset (psycopg chooses)",
                    "server_log_warnings_and_errors": log_errors(server.log_text()),
                },
                "machine": {
                    "cpu_count": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "python_implementation": platform.python_implementation(),
                },
                "caveat": (
                    f"load generator ({args.concurrency} Python threads) and server "
                    f"({args.workers} gunicorn workers) and PostgreSQL share the same "
                    f"{os.cpu_count()} CPU cores, so these numbers understate what the "
                    "server alone can do; cpu_seconds_during_run shows who used the CPU "
                    "(other_processes: anything else on the machine, e.g. a test suite)"
                ),
            }
        finally:
            server.stop()
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
