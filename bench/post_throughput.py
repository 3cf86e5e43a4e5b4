#!/usr/bin/env python3
"""Sustained customer message posts per second, with p99 latency (floor: 500/s at p99 <= 100 ms).

Creates a fresh PostgreSQL schema (dropped at the end), picks a Redis database that holds no
keys, and starts `kulak serve --workers 2` (gunicorn, gevent) with the per-IP rate limits
off. Each run opens its own fresh conversations through the real help form (so every run
starts from conversations of the same length), then posts customer messages
(`POST /c/<token>`, the real form fields: body, client_id, lang; answered 303) over
keep-alive HTTP connections to random conversations of that run, in one of two modes:

- closed loop: C clients, each on its own keep-alive connection, post again as soon as the
  previous answer is read, for D seconds after a warm-up;
- open loop: posts start on a fixed schedule at --rate per second, whether or not earlier
  ones have been answered (up to --max-connections in flight); latency is counted from each
  post's scheduled start, so a server that falls behind shows it (no coordinated omission).

Each mode runs without live sockets, then with --sockets WebSockets listening on the run's
conversations (one per conversation: a few staff sockets `/inbox/ws?conversation=<id>`, the
rest customer sockets `/c/<token>/ws`); with sockets the output also gives how long the
posted message took to reach the socket. The load generator is this one process under
gevent, on the same cores as the server, PostgreSQL and Redis: the output reports the CPU
time each side used. Prints exactly one JSON object on stdout; progress goes to stderr.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
import live_common as lc  # noqa: E402
from cpu_accounting import contention, cpu_counters, cpu_split, wait_for_idle  # noqa: E402
from post_load import FLOOR, Deliveries, add_load_arguments, closed_loop, open_loop  # noqa: E402
from ws_client import open_sockets  # noqa: E402


def log(*parts):
    """Print a progress line on stderr."""
    print("[post_throughput]", *parts, file=sys.stderr, flush=True)


def main():
    """Parse the options, measure on a fresh schema and Redis database, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser)
    parser.add_argument("--sockets", type=int, default=100,
                        help="live sockets in the runs with sockets (100; 0 skips them)")
    parser.add_argument("--staff-sockets", type=int, default=10,
                        help="of --sockets, staff sockets on a conversation (10)")
    args = parser.parse_args()
    if args.sockets > args.conversations or args.staff_sockets > args.sockets:
        sys.exit("need --staff-sockets <= --sockets <= --conversations")
    lc.run_live(log, args, 4096 + 2 * args.sockets, lambda setup: measure(setup, args),
                demo_password=True)


def run_name(mode, sockets):
    return f"{mode}_{'with' if sockets else 'without'}_sockets"


def run_one(setup, server, mode, sockets, cookie, args):
    """Run one mode on fresh conversations, `sockets` of them listened to; return its entry."""
    # bench/post_vs_ceiling.py runs this too, between runs of the skeleton.
    name = run_name(mode, sockets)
    conversations = setup.open_conversations(server.url, args.conversations)
    deliveries, clients, open_errors = Deliveries(), [], []
    if sockets:
        specs = [("staff", cid, f"/inbox/ws?conversation={cid}", cookie)
                 for _, cid in conversations[:args.staff_sockets]]
        specs += [("customer", cid, f"/c/{token}/ws", ())
                  for token, cid in conversations[args.staff_sockets:sockets]]
        clients, open_errors = open_sockets(server.port, specs, 50,
                                            on_text=deliveries.on_text)
        deliveries.listened = {c.conversation_id for c in clients}
    desc = (f"{args.concurrency} clients" if mode == "closed"
            else f"{args.rate}/s scheduled")
    log(f"{name}: {desc}, {len(clients)} sockets, "
        f"{args.warmup}s warm-up + {args.seconds}s")
    idle = wait_for_idle(args.wait_idle, log)
    counts0 = lc.log_counts(server.log_text())
    cpu0, wall0 = cpu_counters({"web": server}), time.perf_counter()
    if mode == "closed":
        run, lags = closed_loop(server.port, conversations, deliveries,
                                args.concurrency, args.seconds, args.warmup)
    else:
        run, lags = open_loop(server.port, conversations, deliveries, args.rate,
                              args.seconds, args.warmup, args.max_connections,
                              args.drain)
    wall = time.perf_counter() - wall0
    gevent.sleep(1)  # let the last frames arrive
    cpu = cpu_split(cpu0, cpu_counters({"web": server}), wall)
    cpu["server_ms_per_post"] = (round(1000 * cpu["server_web"] / run.completed, 2)
                                 if run.completed else None)
    if run.completed:
        # CPU the post costs the server side (gunicorn + PostgreSQL + Redis): with
        # every core of this machine and nothing else running, posts/s cannot
        # exceed this, whatever the concurrency.
        side = cpu["server_web"] + cpu["postgresql_backends"] + cpu["redis"]
        cpu["server_side_ms_per_post"] = round(1000 * side / run.completed, 2)
        cpu["cpu_bound_ceiling_posts_per_s"] = round(
            run.completed * (os.cpu_count() or 1) / side, 1) if side else None
    summary = lc.latency_summary(run.latencies)
    # Posts answered (303) inside the measured window, per second.
    achieved = round(run.answered_in_window / args.seconds, 1)
    errors = sum(run.errors.values())
    entry = {
        "mode": ("closed loop" if mode == "closed" else "open loop"),
        **({"concurrency": args.concurrency} if mode == "closed"
           else {"target_rate_per_s": args.rate,
                 "max_in_flight": args.max_connections}),
        "posts_per_s": achieved,
        "latency": summary,
        "errors": errors,
        "error_kinds": dict(run.errors),
        "status_counts": {str(k): v for k, v in sorted(run.statuses.items())},
        "floor": FLOOR,
        "meets_floor": bool(achieved >= FLOOR["posts_per_s"] * 0.99 and not errors
                            and summary["p99_ms"] is not None
                            and summary["p99_ms"] <= FLOOR["p99_ms"]),
        "conversations": len(conversations),
        "messages_per_conversation_at_end": round(
            2 + run.completed / len(conversations), 1),
        "cpu_seconds_during_run": cpu,
        "contention": {**contention(cpu), "waited_for_idle": idle},
        "server_log_counts_during_run": {
            k: v - counts0[k] for k, v in lc.log_counts(server.log_text()).items()},
    }
    if mode == "open":
        entry["latency_counted_from"] = "each post's scheduled start"
        entry["service_time"] = lc.latency_summary(run.service)
        entry["load_generator_schedule_lag"] = lc.latency_summary(lags)
    if sockets:
        entry["sockets"] = {
            "opened": len(clients),
            "still_open": sum(1 for c in clients if not c.closed),
            "staff": sum(1 for c in clients if c.label == "staff"),
            "customer": sum(1 for c in clients if c.label == "customer"),
            "open_errors": open_errors[:5],
            "frames_received": sum(c.frames for c in clients),
            "posts_to_listened_conversations": deliveries.expected,
            "delivered": len(deliveries.latencies),
            "delivery_latency": lc.latency_summary(deliveries.latencies),
        }
        for client in clients:
            client.close()
    log(f"{name}: {achieved} posts/s, p50 {summary['p50_ms']} ms, p99 "
        f"{summary['p99_ms']} ms, errors {errors}")
    return entry


def measure(setup, args):
    """Run each mode without, then with sockets, on fresh conversations; return the JSON."""
    server = setup.start_server(args.workers)
    cookie = None
    if args.sockets and args.staff_sockets:
        cookie = setup.staff_cookie(server.url)
    plan = [(mode, sockets) for sockets in ([0, args.sockets] if args.sockets else [0])
            for mode in args.modes.split(",")]
    runs = {run_name(mode, sockets): run_one(setup, server, mode, sockets, cookie, args)
            for mode, sockets in plan}
    if server.process.poll() is not None:
        raise RuntimeError(f"server died: {server.log_tail()}")
    return {
        "benchmark": "post_throughput",
        "what": "customer POST /c/<token> (form post, 303) over keep-alive HTTP",
        "headline": {
            name: {"posts_per_s": r["posts_per_s"], "p50_ms": r["latency"]["p50_ms"],
                   "p99_ms": r["latency"]["p99_ms"], "errors": r["errors"],
                   "meets_floor": r["meets_floor"]}
            for name, r in runs.items()},
        "floor": FLOOR,
        "runs": runs,
        "settings": {"seconds": args.seconds, "warmup_seconds": args.warmup,
                     "concurrency": args.concurrency, "rate": args.rate,
                     "conversations_per_run": args.conversations,
                     "sockets": args.sockets, "staff_sockets": args.staff_sockets},
        "server": setup.server_settings(args.workers, server),
        "load_generator": ("this process: gevent greenlets, one keep-alive "
                           "http.client connection per client (closed loop) or a "
                           "pool (open loop); raw-socket WebSocket client"),
        "machine": lc.machine_info(),
        "caveat": (f"server ({args.workers} gevent workers), PostgreSQL, Redis and the "
                   f"load generator share {os.cpu_count()} cores; "
                   "cpu_seconds_during_run shows who used them"),
    }


if __name__ == "__main__":
    main()
