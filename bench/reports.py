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
import re
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kulak_server  # noqa: E402
from kulak_server import login_staff, rss_kib  # noqa: E402
from pg_schema import ADMIN_DSN, APP_DSN, fresh_schema  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
MANAGER = "manager@demo.example"
REPORT_PATH = "/reports/?period=30d"
INBOX_PATH = "/inbox/"
CSV_PATH = "/reports/conversations.csv"
DAYS = 90
FLOORS = {"page_p50_ms": 500, "page_p99_ms": 1000, "csv_rows_per_s": 20000,
          "csv_memory_growth_mb": 50}
CSV_HEADER_FIRST = "Conversation"
CSV_COLUMNS = 17


def log(*parts):
    """Print a progress line on stderr."""
    print("[reports]", *parts, file=sys.stderr, flush=True)


@contextmanager
def schema_for(keep):
    """Yield (schema, app DSN, server version) of a fresh schema; with keep, it is not dropped."""
    if not keep:
        with fresh_schema(log) as found:
            yield found
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    log(f"schema {schema} (kept: drop it with DROP SCHEMA \"{schema}\" CASCADE)")
    yield schema, APP_DSN.format(schema=schema), version


# ---------------------------------------------------------------- data


def generate(schema, conversations, per_conversation):
    """Fill the demo brand with a 90-day history in plain SQL; return counts and timings."""
    timings = {}
    with psycopg.connect(ADMIN_DSN, autocommit=True) as pg:
        pg.execute(f'SET search_path = "{schema}"')

        def one(sql, params=()):
            return pg.execute(sql, params).fetchone()[0]

        def timed(name, sql, params=None):
            began = time.monotonic()
            count = pg.execute(sql, params or {}).rowcount
            timings[name] = round(time.monotonic() - began, 2)
            log(f"{name}: {count} rows in {timings[name]} s")
            return count

        brand = one("SELECT id FROM brand WHERE slug = 'demo'")
        ids = {
            "touchpoints": "SELECT array_agg(id ORDER BY id) FROM touchpoint WHERE brand_id = %s",
            "categories": "SELECT array_agg(id ORDER BY id) FROM category WHERE brand_id = %s",
            "staff": "SELECT array_agg(id ORDER BY id) FROM staff_member WHERE brand_id = %s",
            "teams": "SELECT array_agg(id ORDER BY id) FROM team WHERE brand_id = %s",
        }
        ids = {name: one(sql, (brand,)) for name, sql in ids.items()}
        survey = one("SELECT id FROM survey WHERE brand_id = %s AND is_default", (brand,))
        questions = pg.execute("SELECT id, kind FROM question WHERE survey_id = %s ORDER BY "
                               "position", (survey,)).fetchall()
        levels = one("SELECT array_agg(id ORDER BY position, id) FROM escalation_level "
                     "WHERE brand_id = %s", (brand,))
        first_id = one("SELECT coalesce(max(id), 0) FROM conversation")
        params = {"brand": brand, "n": conversations, "m": per_conversation, "days": DAYS,
                  "first": first_id, "survey": survey, "levels": levels, **ids}
        began = time.monotonic()
        # Each row draws its random numbers once in the inner SELECT (volatile: not flattened).
        timed("conversation", """
            INSERT INTO conversation (brand_id, touchpoint_id, token, status, category_id,
                sentiment, urgency, intent, assignee_id, team_id, language, created_at,
                last_message_at, waiting_since, first_response_at, resolved_at, resolved_count,
                tag_details, escalated_level)
            SELECT %(brand)s,
                (%(touchpoints)s::int[])[1 + floor(r_tp * cardinality(%(touchpoints)s::int[]))::int],
                md5(random()::text) || g, status,
                (%(categories)s::int[])[1 + floor(r_cat * cardinality(%(categories)s::int[]))::int],
                CASE WHEN r_sent < 0.35 THEN 'positive' WHEN r_sent < 0.75 THEN 'neutral'
                     ELSE 'negative' END,
                CASE WHEN r_urg < 0.15 THEN 'urgent' ELSE 'normal' END,
                CASE WHEN r_int < 0.35 THEN 'question' WHEN r_int < 0.65 THEN 'request'
                     WHEN r_int < 0.80 THEN 'complaint' WHEN r_int < 0.92 THEN 'praise'
                     ELSE 'suggestion' END,
                CASE WHEN r_as < 0.05 THEN NULL
                     ELSE (%(staff)s::int[])[1 + floor(r_as * cardinality(%(staff)s::int[]))::int] END,
                CASE WHEN r_as < 0.02 THEN NULL ELSE (%(teams)s::int[])[1] END,
                CASE WHEN r_lang < 0.8 THEN 'en' ELSE 'tr' END,
                created,
                greatest(created, coalesce(resolved, first_response, created)),
                CASE WHEN status = 'open' AND first_response IS NULL THEN created END,
                first_response, resolved, CASE WHEN status = 'resolved' THEN 1 ELSE 0 END,
                '{}'::json,
                CASE WHEN r_esc < 0.01 THEN 2 WHEN r_esc < 0.05 THEN 1 END
            FROM (
                SELECT g, r_tp, r_cat, r_sent, r_urg, r_int, r_as, r_lang, r_esc, created, status,
                    first_response,
                    CASE WHEN status = 'resolved' THEN least(timezone('UTC', now()),
                        coalesce(first_response, created)
                        + (60 + random() * random() * 6 * 3600) * interval '1 second') END
                        AS resolved
                FROM (
                    SELECT g, r_tp, r_cat, r_sent, r_urg, r_int, r_as, r_lang, r_esc, created,
                        CASE WHEN r_st < 0.88 THEN 'resolved' WHEN r_st < 0.95 THEN 'pending'
                             ELSE 'open' END AS status,
                        CASE WHEN r_fr < 0.06 THEN NULL
                             ELSE least(timezone('UTC', now()), created
                                 + (3 + power(random(), 3) * 4 * 3600) * interval '1 second')
                             END AS first_response
                    FROM (
                        SELECT g, random() r_tp, random() r_cat, random() r_sent, random() r_urg,
                            random() r_int, random() r_as, random() r_lang, random() r_esc,
                            random() r_st, random() r_fr,
                            timezone('UTC', now()) - random() * (%(days)s * interval '1 day')
                                AS created
                        FROM generate_series(1, %(n)s) g
                    ) draws
                ) timed_rows
            ) resolved_rows
        """, params)
        # Messages alternate customer / staff, a minute and a half apart; one in ten of the
        # staff ones is an internal note.
        timed("message", """
            INSERT INTO message (conversation_id, author_kind, staff_id, body, client_id,
                created_at, internal)
            SELECT c.id, CASE WHEN k %% 2 = 1 THEN 'customer' ELSE 'staff' END,
                CASE WHEN k %% 2 = 0 THEN coalesce(c.assignee_id, (%(staff)s::int[])[1]) END,
                CASE WHEN k %% 2 = 1
                     THEN 'Message ' || k || ': the shower in room ' || (c.id %% 500) ||
                          ' is cold again, could someone have a look please?'
                     ELSE 'Thank you for telling us, a colleague is on the way (' || k || ').'
                END,
                CASE WHEN k %% 2 = 1 THEN md5(c.id::text || '-' || k) END,
                least(timezone('UTC', now()), c.created_at + (k - 1) * interval '90 seconds'),
                k %% 2 = 0 AND k %% 20 = 0
            FROM conversation c CROSS JOIN generate_series(1, %(m)s) k
            WHERE c.id > %(first)s
        """, params)
        # ~40% of the resolved answer the rating, CSAT skewed to 4-5; a third of those give NPS.
        timed("rating", """
            INSERT INTO rating (brand_id, conversation_id, round, csat, nps, comment, created_at,
                updated_at)
            SELECT %(brand)s, id, 1,
                CASE WHEN r < 0.05 THEN 1 WHEN r < 0.10 THEN 2 WHEN r < 0.20 THEN 3
                     WHEN r < 0.50 THEN 4 ELSE 5 END,
                CASE WHEN r_nps < 0.33 THEN least(10, greatest(0, round(r * 11 + random() - 0.5)))::int END,
                CASE WHEN r_nps > 0.9 THEN 'Lovely staff, slow towels.' END,
                at, at
            FROM (SELECT id, random() r, random() r_nps,
                         resolved_at + random() * interval '2 hours' AS at
                  FROM conversation WHERE id > %(first)s AND status = 'resolved') resolved
            WHERE random() < 0.40
        """, params)
        # What app.widget.satisfaction keeps on the conversation: its latest answer.
        timed("conversation_rating", """
            UPDATE conversation c SET csat = r.csat, nps = r.nps
            FROM rating r WHERE r.conversation_id = c.id AND c.id > %(first)s
        """, params)
        # Survey answers: a fifth of the conversations, plus loose ones (no conversation).
        timed("survey_response", """
            INSERT INTO survey_response (survey_id, brand_id, touchpoint_id, conversation_id,
                language, created_at)
            SELECT %(survey)s, %(brand)s, touchpoint_id, id, language,
                   created_at - interval '5 minutes'
            FROM conversation WHERE id > %(first)s AND random() < 0.20
            UNION ALL
            SELECT %(survey)s, %(brand)s,
                (%(touchpoints)s::int[])[1 + (g %% cardinality(%(touchpoints)s::int[]))], NULL,
                'en', timezone('UTC', now()) - random() * (%(days)s * interval '1 day')
            FROM generate_series(1, greatest(1, %(n)s / 20)) g
        """, params)
        answers = 0
        for question_id, kind in questions:
            value = {"rating": "1 + floor(power(random(), 0.5) * 5)::int",
                     "yes_no": "CASE WHEN random() < 0.85 THEN 1 ELSE 0 END"}.get(kind)
            if value is None:
                continue
            answers += timed(f"answer_{kind}", f"""
                INSERT INTO answer (response_id, question_id, number)
                SELECT id, %(question)s, {value} FROM survey_response WHERE survey_id = %(survey)s
            """, {**params, "question": question_id})
        timed("escalation", """
            INSERT INTO escalation (conversation_id, level_id, due_at, scheduled_at, fired_at)
            SELECT c.id, (%(levels)s::int[])[l], c.created_at + l * interval '5 minutes',
                   c.created_at, c.created_at + l * interval '5 minutes' + interval '1 second'
            FROM conversation c CROSS JOIN generate_series(1, 2) l
            WHERE c.id > %(first)s AND c.escalated_level >= l
              AND l <= cardinality(%(levels)s::int[])
        """, params)
        timings["insert_total"] = round(time.monotonic() - began, 2)
        analyzed = time.monotonic()
        # VACUUM as well: a history this size has been vacuumed by autovacuum long since (it
        # runs after inserts too), which sets the visibility map that index-only scans need.
        for table in ("conversation", "message", "rating", "survey_response", "answer",
                      "escalation"):
            pg.execute(f"VACUUM (ANALYZE) {table}")
        timings["analyze"] = round(time.monotonic() - analyzed, 2)
        timings["total"] = round(time.monotonic() - began, 2)
        counts = {table: one(f"SELECT count(*) FROM {table}") for table in (
            "conversation", "message", "rating", "survey_response", "answer", "escalation")}
        counts["conversations_last_30_days"] = one(
            "SELECT count(*) FROM conversation WHERE created_at >= timezone('UTC', now()) "
            "- interval '30 days'")
        counts["resolved"] = one("SELECT count(*) FROM conversation WHERE status = 'resolved'")
        sizes = {table: one("SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))",
                            (f'"{schema}".{table}',)) for table in ("conversation", "message")}
    return {"seconds": timings, "counts": counts, "table_sizes": sizes, "brand_id": brand}


# ---------------------------------------------------------------- measurements


def percentile(ordered, fraction):
    """Return the nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


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


# ---------------------------------------------------------------- where the time goes


def profile_report(env, password, explain_top, csv_path):
    """Render the report in this process with each SQL statement timed; EXPLAIN the slowest."""
    # bench/classifier.py would shadow the app's classifier package.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != BENCH_DIR]
    import cProfile
    import pstats

    from sqlalchemy import event

    from app import create_app
    from models import db

    app = create_app(environ=env)
    statements = []
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("began", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            began = conn.info["began"].pop()
            statements.append((time.perf_counter() - began, statement, parameters))

        client = app.test_client()
        page = client.get("/inbox/login")
        token = kulak_server.csrf_token(page.get_data(as_text=True))
        answer = client.post("/inbox/login", data={"csrf_token": token, "email": MANAGER,
                                                    "password": password})
        if answer.status_code != 303:
            raise RuntimeError(f"in-process login gave {answer.status_code}")
        statements.clear()
        began = time.perf_counter()
        response = client.get(REPORT_PATH)
        total = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"in-process report gave {response.status_code}")
        found = list(statements)
        # The export, consumed whole, under cProfile: where its Python time goes.
        statements.clear()
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        response = client.get(csv_path)
        size = sum(len(chunk) for chunk in response.response)
        profiler.disable()
        csv_total = time.perf_counter() - began
        response.close()
        csv_statements = list(statements)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        csv_profile = {
            "what": "GET " + csv_path + " through the test client, consumed whole, under "
                    "cProfile (which slows Python down, so compare shares, not seconds)",
            "request_ms": round(csv_total * 1000, 1), "bytes": size,
            "statements": len(csv_statements),
            "sql_execute_ms": round(sum(x[0] for x in csv_statements) * 1000, 1),
            "top_cumulative": [line for line in out.getvalue().splitlines()
                               if line.strip()][:45],
        }
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        sql_total = sum(seconds for seconds, _, _ in found)
        slowest = sorted(found, key=lambda item: -item[0])[:explain_top]
        explained = []
        with engine.connect() as conn:
            for seconds, statement, parameters in slowest:
                plan = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or {})]
                explained.append({
                    "ms": round(seconds * 1000, 1),
                    "sql": re.sub(r"\s+", " ", statement)[:1500],
                    "parameters": {k: str(v) for k, v in (parameters or {}).items()},
                    "plan": plan[:40],
                })
            # The export's own query, planned as the server-side cursor it runs in (a cursor
            # is planned for its first rows, cursor_tuple_fraction), then run as a SELECT.
            main = [x for x in csv_statements if "ORDER BY conversation.created_at" in x[1]]
            if main:
                _, statement, parameters = main[0]
                csv_profile["query"] = re.sub(r"\s+", " ", statement)[:1500]
                csv_profile["cursor_plan"] = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN DECLARE bench_export NO SCROLL CURSOR WITHOUT HOLD FOR "
                    + statement, parameters or {})][:40]
                began = time.perf_counter()
                conn.exec_driver_sql("DECLARE bench_export NO SCROLL CURSOR WITHOUT HOLD FOR "
                                     + statement, parameters or {})
                fetched = 0
                while batch := conn.exec_driver_sql("FETCH 2000 FROM bench_export").fetchall():
                    fetched += len(batch)
                csv_profile["cursor_fetch_all_ms"] = round((time.perf_counter() - began) * 1000)
                csv_profile["cursor_rows"] = fetched
                conn.exec_driver_sql("CLOSE bench_export")
                csv_profile["select_plan_analyzed"] = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or {})][:40]
            conn.rollback()
    return {
        "what": "GET " + REPORT_PATH + " through Flask's test client in the benchmark process, "
                "every SQL statement timed (cursor execute to its return, fetch excluded)",
        "request_ms": round(total * 1000, 1),
        "statements": len(found),
        "sql_ms": round(sql_total * 1000, 1),
        "outside_sql_ms": round((total - sql_total) * 1000, 1),
        "slowest": explained,
        "csv_export": csv_profile,
    }


def log_errors(text, limit=10):
    """Return the tracebacks and error lines of a server log (not the access log)."""
    wanted = [
        ln[:300]
        for ln in text.splitlines()
        if re.search(r"Traceback|Error|Exception|Warning|\[CRITICAL\]|\[ERROR\]|WORKER TIMEOUT", ln)
    ]
    return list(dict.fromkeys(wanted))[:limit]


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
    with schema_for(args.keep) as (schema, dsn, server_version):
        env = {
            "DATABASE_URL": dsn,
            "KULAK_RATE_LIMITS": "off",
            "SECRET_KEY": uuid.uuid4().hex,
            "KULAK_DEMO_PASSWORD": password,
            "REDIS_URL": None,
        }
        server = kulak_server.KulakServer(args.workers, "kulak-reports-", env=env, log=log)
        try:
            server.start()  # `kulak demo` (migrations, the demo brand) then `kulak serve`
            server.wait_for_workers()
            log(f"generating {args.conversations} conversations x "
                f"{args.messages_per_conversation} messages over {DAYS} days")
            data = generate(schema, args.conversations, args.messages_per_conversation)
            if args.business_hours:
                hours = json.dumps({day: ["08:00", "20:00"] for day in
                                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
                with psycopg.connect(ADMIN_DSN, autocommit=True) as pg:
                    pg.execute(f'UPDATE "{schema}".brand SET business_hours = %s', (hours,))
            session = login_staff(requests.Session(), server.base, MANAGER, password, 30)
            log(f"report page: {args.warmups} warm-ups + {args.requests} GETs")
            report = time_page(session, server.base, REPORT_PATH, args.requests, args.warmups)
            log(f"report page p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms")
            log(f"inbox list: {args.warmups} warm-ups + {args.requests} GETs")
            inbox = time_page(session, server.base, INBOX_PATH, args.requests, args.warmups)
            log(f"inbox p50 {inbox['p50_ms']} ms, p99 {inbox['p99_ms']} ms")
            today = datetime.now(UTC).date()  # one day either side covers every zone
            first, last = today - timedelta(days=DAYS + 2), today + timedelta(days=1)
            log(f"CSV export {first}..{last}")
            export = stream_csv(session, server.base, server, first, last,
                                data["counts"]["conversation"])
            log(f"CSV: {export['rows']} rows in {export['seconds']} s "
                f"({export['rows_per_s']} rows/s), +{export['memory_growth_mb']} MB")
            if server.proc.poll() is not None:
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
