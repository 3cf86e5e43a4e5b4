#!/usr/bin/env python3
"""Latency of the report page and throughput of the CSV export on a big history (gunicorn + PG).

Creates a fresh PostgreSQL schema (dropped at the end unless --keep), runs `kulak demo` and
`kulak serve --workers 2` on it with the rate limits off, then fills the demo brand with N
conversations of M messages each, spread over the last 90 days, in plain SQL (INSERT ... SELECT
generate_series), with ratings, survey answers and escalations, and VACUUM ANALYZEs. Signed in as the
demo's manager, it times R sequential GETs of the 30-day report (/reports/?period=30d) and of
the inbox list (/inbox/, the yardstick), then streams the CSV export of a custom range that
covers everything once, counting its rows and sampling the workers' memory. Last, in this
process, it renders the report once more through the app itself with every SQL statement
timed, and EXPLAIN ANALYZEs the slowest. Prints exactly one JSON object on stdout; progress
goes to stderr.
"""

import argparse
import csv
import io
import json
import os
import platform
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
from cpu_accounting import rss_kib  # noqa: E402
from live_common import log_errors, percentile  # noqa: E402
from report_history import DAYS, generate  # noqa: E402
from report_profile import MANAGER, REPORT_PATH, profile_report  # noqa: E402

from harness.clients import sign_in  # noqa: E402
from harness.databases import ADMIN_DSN, fresh_schema  # noqa: E402
from harness.servers import KulakServer  # noqa: E402

INBOX_PATH = "/inbox/"
CSV_PATH = "/reports/conversations.csv"
FLOORS = {"page_p50_ms": 500, "page_p99_ms": 1000, "csv_rows_per_s": 20000,
          "csv_memory_growth_mb": 50}
CSV_HEADER_FIRST = "Conversation"
CSV_COLUMNS = 17


def log(*parts):
    """Print a progress line on stderr."""
    print("[reports]", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- measurements


def time_page(session, base, path, requests_count, warmups):
    """GET path warmups + requests_count times in a row; return the timed latencies' summary."""
    latencies, statuses, sizes = [], {}, []
    for n in range(warmups + requests_count):
        began = time.perf_counter()
        response = session.get(base + path, timeout=300, allow_redirects=False)
        body = response.content
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} gave {response.status_code}: {response.text[:500]}")
        if n >= warmups:
            latencies.append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            sizes.append(len(body))
    ordered = sorted(latencies)
    return {
        "url": path, "requests": len(ordered), "warmups": warmups,
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 1),
        "status_counts": {str(k): v for k, v in statuses.items()},
        "html_bytes": sizes[-1],
    }


class MemorySampler:
    """Sample the VmRSS of every worker every interval seconds, from a thread."""

    def __init__(self, pids, interval=0.1):
        self.pids, self.interval = pids, interval
        self.peak = {pid: rss_kib(pid) or 0 for pid in pids}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            for pid in self.pids:
                value = rss_kib(pid)
                if value is not None and value > self.peak[pid]:
                    self.peak[pid] = value
            self.samples += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def stream_csv(session, base, server, first, last, expected):
    """Stream the CSV of the local days first..last once; return rows, speed and memory."""
    path = f"{CSV_PATH}?period=custom&start={first.isoformat()}&end={last.isoformat()}"
    pids = server.worker_pids()
    before = {pid: rss_kib(pid) for pid in pids}
    rows, header, bom, first_byte = 0, None, False, None
    with MemorySampler(pids) as sampler:
        began = time.perf_counter()
        response = session.get(base + path, stream=True, timeout=600, allow_redirects=False)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} gave {response.status_code}: {response.text[:500]}")
        response.raw.decode_content = True
        raw = response.raw
        head = raw.read(3)
        first_byte = time.perf_counter() - began
        bom = head == b"\xef\xbb\xbf"
        text = io.TextIOWrapper(io.BufferedReader(_Prefixed(b"" if bom else head, raw),
                                                  buffer_size=1 << 16),
                                encoding="utf-8", newline="")
        reader = csv.reader(text)
        header = next(reader)
        bad_rows = 0
        for row in reader:
            rows += 1
            if len(row) != CSV_COLUMNS:
                bad_rows += 1
        elapsed = time.perf_counter() - began
        response.close()
    time.sleep(1.0)  # let the worker settle before reading what it kept
    after = {pid: rss_kib(pid) for pid in pids}
    growth = {pid: sampler.peak[pid] - (before[pid] or 0) for pid in pids}
    worst = max(growth, key=growth.get)
    return {
        "url": path, "rows": rows, "expected_rows": expected, "rows_match": rows == expected,
        "bad_rows": bad_rows, "bom": bom,
        "header_ok": bool(header) and header[0] == CSV_HEADER_FIRST and len(header) == CSV_COLUMNS,
        "header": header, "content_type": response.headers.get("Content-Type"),
        "seconds": round(elapsed, 2), "first_byte_ms": round(first_byte * 1000, 1),
        "rows_per_s": round(rows / elapsed) if elapsed else None,
        "worker_rss_kib": {str(pid): {"before": before[pid], "peak": sampler.peak[pid],
                                      "after": after[pid]} for pid in pids},
        "rss_samples": sampler.samples,
        "memory_growth_mb": round(growth[worst] / 1024, 1),
        "memory_kept_mb": round(((after[worst] or 0) - (before[worst] or 0)) / 1024, 1),
    }


class _Prefixed(io.RawIOBase):
    """A raw stream that gives `prefix` first, then reads `stream`."""

    def __init__(self, prefix, stream):
        self.prefix, self.stream = prefix, stream

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.prefix:
            size = min(len(buffer), len(self.prefix))
            buffer[:size], self.prefix = self.prefix[:size], self.prefix[size:]
            return size
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def main():
    """Build the history, measure the report page, the inbox and the export; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=None,
                        help="conversations to generate (100,000; 10,000 with --quick)")
    parser.add_argument("--messages-per-conversation", type=int, default=10,
                        help="messages per conversation (10)")
    parser.add_argument("--requests", type=int, default=30,
                        help="timed GETs of each page, after 3 warm-ups (30)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed GETs first (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--quick", action="store_true",
                        help="10,000 conversations (unless --conversations is given)")
    parser.add_argument("--business-hours", action="store_true",
                        help="give the demo brand opening hours (08:00-20:00 every day), so the "
                             "report also counts first responses in business hours")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the in-process statement timing and EXPLAIN ANALYZE")
    parser.add_argument("--explain-top", type=int, default=4,
                        help="EXPLAIN ANALYZE this many of the slowest statements (4)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the schema for inspection (its name is on stderr)")
    args = parser.parse_args()
    if args.conversations is None:
        args.conversations = 10_000 if args.quick else 100_000

    started = time.monotonic()
    password = "bench-" + uuid.uuid4().hex[:12]
    result = None
    with fresh_schema(log, keep=args.keep) as (schema, dsn, server_version):
        env = {
            "DATABASE_URL": dsn,
            "KULAK_RATE_LIMITS": "off",
            "SECRET_KEY": uuid.uuid4().hex,
            "KULAK_DEMO_PASSWORD": password,
            "REDIS_URL": None,
        }
        server = KulakServer(env=env, workers=args.workers, progress=log)
        try:
            server.start()  # `kulak demo` (migrations, the demo brand) then `kulak serve`
            log(f"generating {args.conversations} conversations x "
                f"{args.messages_per_conversation} messages over {DAYS} days")
            data = generate(schema, args.conversations, args.messages_per_conversation, log)
            if args.business_hours:
                hours = json.dumps({day: ["08:00", "20:00"] for day in
                                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
                with psycopg.connect(ADMIN_DSN, autocommit=True) as pg:
                    pg.execute(f'UPDATE "{schema}".brand SET business_hours = %s', (hours,))
            session = sign_in(server.url, MANAGER, password)
            log(f"report page: {args.warmups} warm-ups + {args.requests} GETs")
            report = time_page(session, server.url, REPORT_PATH, args.requests, args.warmups)
            log(f"report page p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms")
            log(f"inbox list: {args.warmups} warm-ups + {args.requests} GETs")
            inbox = time_page(session, server.url, INBOX_PATH, args.requests, args.warmups)
            log(f"inbox p50 {inbox['p50_ms']} ms, p99 {inbox['p99_ms']} ms")
            today = datetime.now(UTC).date()  # one day either side covers every zone
            first, last = today - timedelta(days=DAYS + 2), today + timedelta(days=1)
            log(f"CSV export {first}..{last}")
            export = stream_csv(session, server.url, server, first, last,
                                data["counts"]["conversation"])
            log(f"CSV: {export['rows']} rows in {export['seconds']} s "
                f"({export['rows_per_s']} rows/s), +{export['memory_growth_mb']} MB")
            if server.process.poll() is not None:
                raise RuntimeError(f"server died during the run: {server.log_tail()}")
            profile = None
            if not args.no_profile:
                log("in-process report with timed statements")
                try:
                    profile = profile_report(server.env, password, args.explain_top,
                                             export["url"])
                except Exception as error:  # the figures above stand without it
                    profile = {"error": f"{type(error).__name__}: {error}"}
            result = {
                "benchmark": "reports",
                "history": {
                    "conversations": args.conversations,
                    "messages_per_conversation": args.messages_per_conversation,
                    "days": DAYS,
                    "business_hours": args.business_hours,
                    "generation": data,
                },
                "report_page": report,
                "inbox_page": inbox,
                "report_to_inbox_p50_ratio": round(report["p50_ms"] / inbox["p50_ms"], 1),
                "report_to_inbox_mean_ratio": round(report["mean_ms"] / inbox["mean_ms"], 1),
                "csv_export": export,
                "floors": {
                    "page_p50_ms": {"floor": FLOORS["page_p50_ms"], "measured": report["p50_ms"],
                                    "ok": report["p50_ms"] <= FLOORS["page_p50_ms"]},
                    "page_p99_ms": {"floor": FLOORS["page_p99_ms"], "measured": report["p99_ms"],
                                    "ok": report["p99_ms"] <= FLOORS["page_p99_ms"]},
                    "csv_rows_per_s": {"floor": FLOORS["csv_rows_per_s"],
                                       "measured": export["rows_per_s"],
                                       "ok": (export["rows_per_s"] or 0)
                                       >= FLOORS["csv_rows_per_s"]},
                    "csv_memory_growth_mb": {"floor": FLOORS["csv_memory_growth_mb"],
                                             "measured": export["memory_growth_mb"],
                                             "ok": export["memory_growth_mb"]
                                             <= FLOORS["csv_memory_growth_mb"]},
                },
                "query_profile": profile,
                "server": {
                    "command": "kulak serve",
                    "workers": args.workers,
                    "worker_class": "gevent",
                    "database": "postgresql",
                    "postgresql_version": server_version,
                    "rate_limits": "off",
                    "schema_kept": schema if args.keep else None,
                    "server_log_warnings_and_errors": log_errors(server.log_text()),
                },
                "machine": {
                    "cpu_count": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "caveat": ("client, server and PostgreSQL share the machine; requests are "
                           "sequential, so each latency is one request alone on the server"),
            }
            result["meets_floors"] = all(f["ok"] for f in result["floors"].values())
        finally:
            server.stop()
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
