#!/usr/bin/env python3
"""Server CPU of the no-script message frame's refresh: a 304 with nothing new, against a full one.

Starts its own `kulak serve` (gunicorn + gevent, SQLite in a temporary instance folder, after
`kulak demo`) on a free port of 127.0.0.1 and opens one conversation through the real form.
It GETs `/c/<token>/frame` once for its ETag, then N times with that ETag in If-None-Match
(expecting 304) and N times without it (200), on one keep-alive connection as a browser
refreshes (br, gzip accepted), and once more without compression, where the ETag is the
view's strong one. The server's CPU is its process group's user + system time, from /proc.
Prints exactly one JSON object on stdout; progress goes to stderr.
"""

import argparse
import json
import os
import platform
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
from cpu_accounting import group_cpu_seconds  # noqa: E402
from wire import served_demo, wire_get  # noqa: E402

FRAME_304_CPU_FLOOR = 0.10  # a frame refresh with nothing new: <= 10% of a full one's CPU
CONVERSATION_BODY = "The air conditioning in my room is not working, could someone take a look?"


def log(*parts):
    """Print a progress line on stderr."""
    print("[frame_refresh]", *parts, file=sys.stderr, flush=True)


def frame_refresh_cpu(session, server, token, count):
    """Server CPU per GET of the no-script frame: with its ETag in If-None-Match, and without."""
    url = f"{server.url}/c/{token}/frame"
    first, _ = wire_get(session, url)
    plain = session.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    etag, plain_etag = first.headers.get("ETag"), plain.headers.get("ETag")
    runs = {}
    # As a browser refreshes (br, gzip accepted), and, to tell the view's own 304 from the
    # compression's, without compression, where the ETag is the view's strong one.
    for name, headers in (
        ("if_none_match", {"If-None-Match": etag} if etag else {}),
        ("full", {}),
        ("if_none_match_identity", {"Accept-Encoding": "identity",
                                    **({"If-None-Match": plain_etag} if plain_etag else {})}),
    ):
        runs[name] = cpu_per_get(session, server, url, count, headers)
    full = runs["full"]["server_cpu_ms_per_request"]

    def ratio(run):
        return round(runs[run]["server_cpu_ms_per_request"] / full, 3) if full else None

    only_304 = set(runs["if_none_match"]["statuses"]) == {"304"}
    return {
        "path": "/c/{token}/frame",
        "first_answer": {"status": first.status_code, "etag": etag,
                         "content_encoding": first.headers.get("Content-Encoding", "identity"),
                         "cache_control": first.headers.get("Cache-Control", ""),
                         "etag_identity": plain_etag},
        **runs,
        "cpu_ratio_304_to_full": ratio("if_none_match"),
        "cpu_ratio_304_to_full_identity": ratio("if_none_match_identity"),
        "within_10pct_floor": bool(only_304 and full
                                   and ratio("if_none_match") <= FRAME_304_CPU_FLOOR),
        "note": None if only_304 else "the frame did not answer 304 to its own ETag (no ETag "
        "sent yet?): the If-None-Match run is a full render too",
    }


def request_floor(session, server, count):
    """Server CPU per GET /healthz (one read, JSON): the same loop as the frame's."""
    return cpu_per_get(session, server, f"{server.url}/healthz", count)


def cpu_per_get(session, server, url, count, headers=None):
    """GET `url` `count` times after 20 not counted; return the statuses and server CPU."""
    for _ in range(20):
        wire_get(session, url, headers)
    statuses, before = {}, group_cpu_seconds(server.process.pid)
    for _ in range(count):
        status = str(wire_get(session, url, headers)[0].status_code)
        statuses[status] = statuses.get(status, 0) + 1
    cpu = group_cpu_seconds(server.process.pid) - before
    return {"requests": count, "statuses": statuses,
            "server_cpu_ms_per_request": round(cpu * 1000 / count, 3)}


def main():
    """Start a server, time the frame's refreshes, and print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--requests", type=int, default=300,
                        help="frame refreshes per run, after 20 not counted (300)")
    args = parser.parse_args()
    started = time.monotonic()
    with served_demo(args.workers, CONVERSATION_BODY, log) as (server, session, token):
        frame = frame_refresh_cpu(session, server, token, args.requests)
        log(f"a 304 costs {frame['cpu_ratio_304_to_full']} of a full refresh's CPU")
        floor = request_floor(session, server, args.requests)
        log(f"/healthz costs {floor['server_cpu_ms_per_request']} ms a request")
        result = {
            "benchmark": "frame_refresh",
            "floor": f"cpu_ratio_304_to_full <= {FRAME_304_CPU_FLOOR}",
            **frame,
            "yardstick_healthz": {
                **floor, "note": "GET /healthz, one database read through the same stack: what "
                "any request costs this server; the 304 can cost little less"},
            "cpu_ratio_304_to_healthz": round(
                frame["if_none_match"]["server_cpu_ms_per_request"]
                / floor["server_cpu_ms_per_request"], 3)
            if floor["server_cpu_ms_per_request"] else None,
            "server": {"command": "kulak serve", "workers": args.workers,
                       "worker_class": "gevent", "database": "sqlite (temporary instance)"},
            "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version()},
            "elapsed_s": round(time.monotonic() - started, 2),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
