#!/usr/bin/env python3
"""Kulak's customer post beside the skeleton's, interleaved in one run (issue 17 floors: posts/s
>= 0.8x the skeleton's, server CPU per post <= 1.25x, posts/s with 100 sockets >= 0.7x).

Runs bench/post_throughput.py's closed loop on `kulak serve` (a fresh schema, the demo, rate
limits off) and bench/stack_ceiling.py's on its skeleton app (another fresh schema, the same
Redis), with the same load generator settings, in rounds: Kulak without sockets, the skeleton,
Kulak with --sockets live sockets on the posted conversations. Both servers stay up the whole
run, so every round meets the same machine. Each Kulak run opens fresh conversations, as
post_throughput.py does. Prints, per round and as medians, Kulak's figure over the skeleton's
of the same round; one JSON object on stdout, progress on stderr.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
import live_common as lc  # noqa: E402
import post_load  # noqa: E402
import post_throughput  # noqa: E402
import stack_ceiling  # noqa: E402

from harness.databases import fresh_schema  # noqa: E402

FLOORS = {"posts_per_s_ratio_at_least": 0.8, "server_cpu_per_post_ratio_at_most": 1.25,
          "posts_per_s_ratio_with_sockets_at_least": 0.7}


def log(*parts):
    """Print a progress line on stderr."""
    print("[post_vs_ceiling]", *parts, file=sys.stderr, flush=True)


def kulak_figures(entry):
    cpu = entry["cpu_seconds_during_run"]
    return {"posts_per_s": entry["posts_per_s"], "p99_ms": entry["latency"]["p99_ms"],
            "errors": entry["errors"], "server_ms_per_post": cpu["server_ms_per_post"],
            "server_side_ms_per_post": cpu.get("server_side_ms_per_post"),
            "other_processes_share": entry["contention"]["other_processes_share_of_machine"]}


def skeleton_figures(entry):
    return {"posts_per_s": entry["posts_per_s"], "p99_ms": entry["latency"]["p99_ms"],
            "errors": entry["errors"], "server_ms_per_post": entry["server_ms_per_post"],
            "server_side_ms_per_post": entry["server_side_ms_per_post"],
            "other_processes_share": entry["contention"]["other_processes_share_of_machine"]}


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def round_ratios(kulak, skeleton, with_sockets):
    """Kulak's figures over the skeleton's of the same round."""
    return {
        "posts_per_s": ratio(kulak["posts_per_s"], skeleton["posts_per_s"]),
        "server_cpu_per_post": ratio(kulak["server_ms_per_post"], skeleton["server_ms_per_post"]),
        "server_side_cpu_per_post": ratio(kulak["server_side_ms_per_post"],
                                          skeleton["server_side_ms_per_post"]),
        "posts_per_s_with_sockets": ratio(with_sockets["posts_per_s"], skeleton["posts_per_s"]),
    }


def median_of(rows, key):
    values = [row[key] for row in rows if row[key] is not None]
    return round(statistics.median(values), 3) if values else None


def measure(setup, args):
    """Start both servers, run the rounds, return the JSON."""
    kulak = setup.start_server(args.workers)
    cookie = setup.staff_cookie(kulak.url) if args.staff_sockets else None
    rounds = []
    with fresh_schema(log) as (schema, dsn, _):
        conversations = stack_ceiling.seed(schema, args.conversations)
        skeleton = stack_ceiling.skeleton(args.workers, dsn, setup.redis_url, args.variant)
        try:
            for n in range(args.rounds):
                log(f"round {n + 1}/{args.rounds}")
                plain = post_throughput.run_one(setup, kulak, "closed", 0, cookie, args)
                ceiling = stack_ceiling.run_mode(skeleton, "closed", conversations, args)
                log(f"skeleton: {ceiling['posts_per_s']} posts/s, "
                    f"{ceiling['server_ms_per_post']} server CPU ms/post")
                live = post_throughput.run_one(setup, kulak, "closed", args.sockets, cookie,
                                               args)
                row = {"kulak": kulak_figures(plain), "skeleton": skeleton_figures(ceiling),
                       "kulak_with_sockets": kulak_figures(live)}
                row["ratios"] = round_ratios(row["kulak"], row["skeleton"],
                                             row["kulak_with_sockets"])
                row["sockets"] = {k: live["sockets"][k] for k in ("opened", "still_open",
                                                                  "delivered")}
                log(f"round {n + 1} ratios: {row['ratios']}")
                rounds.append(row)
        finally:
            skeleton.stop()
    if kulak.process.poll() is not None:
        raise RuntimeError(f"server died: {kulak.log_tail()}")
    ratios = [row["ratios"] for row in rounds]
    medians = {key: median_of(ratios, key) for key in ratios[0]}
    return {
        "benchmark": "post_vs_ceiling",
        "what": ("closed-loop POST /c/<token>: Kulak (without, then with live sockets) over "
                 "the skeleton of its stack (bench/stack_ceiling_app.py), interleaved"),
        "headline": {
            "posts_per_s_ratio": medians["posts_per_s"],
            "server_cpu_per_post_ratio": medians["server_cpu_per_post"],
            "posts_per_s_ratio_with_sockets": medians["posts_per_s_with_sockets"],
            "server_side_cpu_per_post_ratio": medians["server_side_cpu_per_post"],
            "floors": FLOORS,
            "meets_floors": bool(
                medians["posts_per_s"] is not None and medians["server_cpu_per_post"] is not None
                and medians["posts_per_s_with_sockets"] is not None
                and medians["posts_per_s"] >= FLOORS["posts_per_s_ratio_at_least"]
                and medians["server_cpu_per_post"] <= FLOORS["server_cpu_per_post_ratio_at_most"]
                and medians["posts_per_s_with_sockets"]
                >= FLOORS["posts_per_s_ratio_with_sockets_at_least"]),
        },
        "median_ratios": medians,
        "median_figures": {side: {key: median_of([row[side] for row in rounds], key)
                                  for key in rounds[0][side]}
                           for side in ("kulak", "skeleton", "kulak_with_sockets")},
        "rounds": rounds,
        "cpu_per_post": ("server: the gunicorn process group's user + system CPU per post "
                         "(warm-up included); server_side adds PostgreSQL's backends and Redis"),
        "settings": {"rounds": args.rounds, "workers": args.workers,
                     "concurrency": args.concurrency, "seconds": args.seconds,
                     "warmup": args.warmup, "conversations": args.conversations,
                     "sockets": args.sockets, "staff_sockets": args.staff_sockets,
                     "skeleton_variant": args.variant},
        "server": setup.server_settings(args.workers, kulak),
        "machine": lc.machine_info(),
        "caveat": (f"both servers, PostgreSQL, Redis and the load generator share "
                   f"{os.cpu_count()} cores; the ratios compare runs of the same round"),
    }


def main():
    """Parse the options (post_throughput.py's load, shorter runs), measure, print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    post_load.add_load_arguments(parser)
    parser.set_defaults(seconds=8)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--sockets", type=int, default=100,
                        help="live sockets in Kulak's run with sockets (100)")
    parser.add_argument("--staff-sockets", type=int, default=10,
                        help="of --sockets, staff sockets on a conversation (10)")
    parser.add_argument("--variant", default="transaction", choices=stack_ceiling.VARIANTS,
                        help="the skeleton's statements (transaction: Kulak's round trips)")
    args = parser.parse_args()
    if not 0 < args.sockets <= args.conversations or args.staff_sockets > args.sockets:
        sys.exit("need --staff-sockets <= --sockets <= --conversations, --sockets > 0")
    lc.run_live(log, args, 4096 + 2 * args.sockets, lambda setup: measure(setup, args),
                demo_password=True)


if __name__ == "__main__":
    main()
