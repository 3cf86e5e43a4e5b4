#!/usr/bin/env python3
"""What the JSON API costs the server per request, next to the pages it stands beside (floor:
a page of the API's conversation list costs no more CPU than the inbox list, ratio <= 1.0).

Creates a fresh PostgreSQL schema (dropped at the end unless --keep), runs `kulak demo` and
`kulak serve --workers 2` (gunicorn, gevent) on it with the rate limits off, fills the demo
brand with N conversations in plain SQL (bench/report_history.py's generator), of which
exactly 50 are open and held by the demo's manager, so that the manager's inbox shows 50
rows, as the API's page of 50 does. It creates a read-write API token (`kulak token create`,
or an `api_token` row written as ApiToken.issue does when that command is missing), signs the
manager in through the real form, and runs four scenarios, each a closed loop of C client
threads (a requests.Session each) for D seconds after a warm-up, interleaved (A B C D A B C D
... for R rounds) so that machine noise hits all of them alike:

- api_list: GET /api/v1/conversations?limit=50 with the token;
- inbox_list: GET /inbox/ signed in as the manager (the yardstick for api_list);
- api_post: POST /api/v1/conversations/<id>/messages {"body", "staff_id"}, a staff reply,
  each with its own Idempotency-Key, spread over many conversations;
- customer_post: POST /c/<token> (the customer's form without JavaScript: body, client_id,
  lang; 303), a fresh client id each time, over the same conversations (the yardstick for
  api_post).

For each it reports requests/s, latency percentiles, errors by status and the server's CPU
seconds per request (user + system of gunicorn's master and workers, from /proc, over the
measured window, divided by the requests answered in it). Prints exactly one JSON object on
stdout; progress goes to stderr.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter

import psycopg
import requests

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
from cpu_accounting import contention, cpu_counters, cpu_split  # noqa: E402
from live_common import latency_summary, log_errors, machine_info  # noqa: E402
from report_history import generate  # noqa: E402
from report_profile import MANAGER  # noqa: E402

from harness.clients import sign_in  # noqa: E402
from harness.databases import ADMIN_DSN, fresh_schema  # noqa: E402
from harness.servers import KulakServer  # noqa: E402

PAGE = 50
LIST_PATH = f"/api/v1/conversations?limit={PAGE}"
INBOX_PATH = "/inbox/"
FLOOR = {"api_list_cpu_per_request / inbox_cpu_per_request": 1.0}
SCENARIOS = ("api_list", "inbox_list", "api_post", "customer_post")
EXPECTED = {"api_list": 200, "inbox_list": 200, "api_post": 201, "customer_post": 303}
WHAT = {
    "api_list": f"GET {LIST_PATH} (Authorization: Bearer)",
    "inbox_list": f"GET {INBOX_PATH} signed in as {MANAGER}",
    "api_post": "POST /api/v1/conversations/<id>/messages {body, staff_id} with a distinct "
                "Idempotency-Key (201)",
    "customer_post": "POST /c/<token> form body, client_id (fresh), lang (303)",
}
TIMEOUT = 30


def log(*parts):
    """Print a progress line on stderr."""
    print("[api]", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- setup


def api_token(server):
    """Return a plain read-write token of the demo brand, made by `kulak token create`."""
    name = "bench-api-" + uuid.uuid4().hex[:6]
    made = server.kulak("token", "create", "demo", name, timeout=120)
    return made.strip().splitlines()[-1].strip(), "kulak token create"


def shape_history(schema, manager_id):
    """Make exactly PAGE conversations open and held by the manager (the manager's inbox), and
    return the conversations the posts go to: held by someone else, never the manager's view."""
    # A staff reply to an unheld conversation would hand it to the manager and a customer
    # post would then put it in the manager's inbox: the posts skip those, so the inbox page
    # keeps its PAGE rows from the first round to the last.
    with psycopg.connect(ADMIN_DSN, autocommit=True) as pg:
        pg.execute(f'SET search_path = "{schema}"')
        pg.execute("UPDATE conversation SET status = 'pending', waiting_since = NULL "
                   "WHERE assignee_id = %s AND status = 'open'", (manager_id,))
        pg.execute("""
            UPDATE conversation SET status = 'open', assignee_id = %(m)s, resolved_at = NULL,
                waiting_since = last_message_at
            WHERE id IN (SELECT id FROM conversation WHERE status <> 'open'
                         ORDER BY random() LIMIT %(n)s)""", {"m": manager_id, "n": PAGE})
        inbox = pg.execute("SELECT count(*) FROM conversation WHERE assignee_id = %s "
                           "AND status = 'open'", (manager_id,)).fetchone()[0]
        targets = pg.execute("SELECT id, token FROM conversation WHERE assignee_id IS NOT NULL "
                             "AND assignee_id <> %s ORDER BY id", (manager_id,)).fetchall()
        pg.execute("VACUUM (ANALYZE) conversation")
    return inbox, targets


def staff_id_of(schema, email):
    with psycopg.connect(ADMIN_DSN, autocommit=True) as pg:
        return pg.execute(f'SELECT id FROM "{schema}".staff_member WHERE email = %s',
                          (email,)).fetchone()[0]


# ---------------------------------------------------------------- the four requests


class Calls:
    """Make each scenario's session and its one request; each returns the HTTP status."""

    def __init__(self, base, token, cookies, manager_id, targets):
        self.base, self.token, self.cookies = base, token, cookies
        self.manager_id, self.targets = manager_id, targets

    def session(self, scenario):
        session = requests.Session()
        if scenario.startswith("api_"):
            session.headers["Authorization"] = f"Bearer {self.token}"
        if scenario == "inbox_list":
            session.cookies.update(self.cookies)
        return session

    def api_list(self, session, rng):
        response = session.get(self.base + LIST_PATH, timeout=TIMEOUT)
        return response.status_code, response.content

    def inbox_list(self, session, rng):
        response = session.get(self.base + INBOX_PATH, timeout=TIMEOUT, allow_redirects=False)
        return response.status_code, response.content

    def api_post(self, session, rng):
        conversation_id, _ = rng.choice(self.targets)
        response = session.post(
            f"{self.base}/api/v1/conversations/{conversation_id}/messages",
            json={"body": f"Benchmark reply {rng.getrandbits(32):08x}: a colleague is on the "
                          "way.", "staff_id": self.manager_id},
            headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=TIMEOUT)
        return response.status_code, response.content

    def customer_post(self, session, rng):
        _, token = rng.choice(self.targets)
        response = session.post(
            f"{self.base}/c/{token}",
            data={"body": f"Benchmark message {rng.getrandbits(32):08x}: is the shower fixed "
                          "yet?", "client_id": uuid.uuid4().hex, "lang": "en"},
            allow_redirects=False, timeout=TIMEOUT)
        return response.status_code, response.content


def preflight(calls):
    """Check each request once, and that both lists show a real page; return what was seen."""
    seen = {}
    for scenario in SCENARIOS:
        with calls.session(scenario) as session:
            status, body = getattr(calls, scenario)(session, random.Random(0))
        if status != EXPECTED[scenario]:
            raise RuntimeError(f"{scenario}: {WHAT[scenario]} gave {status}: {body[:500]!r}")
        seen[scenario] = {"status": status, "bytes": len(body)}
    listed = json.loads(calls.api_list(calls.session("api_list"), None)[1])
    seen["api_list"]["items"] = len(listed["items"])
    seen["api_list"]["has_next_cursor"] = listed["next_cursor"] is not None
    inbox = calls.inbox_list(calls.session("inbox_list"), None)[1].decode(errors="replace")
    seen["inbox_list"]["rows"] = inbox.count('id="row-')
    if seen["api_list"]["items"] != PAGE or seen["inbox_list"]["rows"] != PAGE:
        raise RuntimeError(f"the pages are not {PAGE} rows: {seen}")
    return seen


# ---------------------------------------------------------------- closed loop


def closed_loop(calls, scenario, server, clients, seconds, warmup, seed):
    """Run `clients` threads that send the scenario's request again as soon as each answer is
    read; return what was answered inside the measured window and the CPU it cost."""
    start = time.perf_counter() + 0.2
    measure_from, stop_at = start + warmup, start + warmup + seconds
    records = []  # (ended, latency, status): list.append is atomic
    call = getattr(calls, scenario)
    ready = threading.Barrier(clients + 1)

    def client(index):
        rng = random.Random(seed * 1000 + index)
        session = calls.session(scenario)
        ready.wait()
        time.sleep(max(0.0, start - time.perf_counter()))
        while (began := time.perf_counter()) < stop_at:
            try:
                status, _ = call(session, rng)
            except requests.RequestException as error:
                status = type(error).__name__
                session.close()
                session = calls.session(scenario)
            ended = time.perf_counter()
            records.append((ended, ended - began, status))
        session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    before = time.perf_counter()
    cpu0 = cpu_counters({"web": server})
    window_from = (before + time.perf_counter()) / 2
    time.sleep(max(0.0, stop_at - time.perf_counter()))
    window_to = time.perf_counter()
    cpu1 = cpu_counters({"web": server})
    window_to = (window_to + time.perf_counter()) / 2
    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    inside = [r for r in records if window_from <= r[0] < window_to]
    return inside, cpu_split(cpu0, cpu1, window_to - window_from)


def summarize(scenario, runs):
    """Merge a scenario's rounds: throughput, latency, statuses, CPU per request."""
    latencies = [latency for inside, _ in runs for _, latency, _ in inside]
    statuses = Counter(str(status) for inside, _ in runs for _, _, status in inside)
    answered = sum(statuses.values())
    wall = sum(cpu["wall_seconds"] for _, cpu in runs)
    server = sum(cpu["server_web"] for _, cpu in runs)
    database = sum(cpu["postgresql_backends"] for _, cpu in runs)
    errors = {k: v for k, v in statuses.items() if k != str(EXPECTED[scenario])}

    def per_request(seconds, count):
        return seconds / count if count else None

    return {
        "request": WHAT[scenario],
        "requests": answered,
        "requests_per_s": round(answered / wall, 1) if wall else None,
        "latency": latency_summary(latencies),
        "status_counts": dict(sorted(statuses.items())),
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "server_cpu_seconds": round(server, 2),
        "server_cpu_seconds_per_request": (round(per_request(server, answered), 6)
                                           if answered else None),
        "server_cpu_ms_per_request": (round(1000 * per_request(server, answered), 3)
                                      if answered else None),
        "postgresql_cpu_ms_per_request": (round(1000 * per_request(database, answered), 3)
                                          if answered else None),
        "rounds": [{
            "requests_per_s": round(len(inside) / cpu["wall_seconds"], 1),
            "p50_ms": latency_summary([r[1] for r in inside])["p50_ms"],
            "p99_ms": latency_summary([r[1] for r in inside])["p99_ms"],
            "server_cpu_ms_per_request": (round(1000 * cpu["server_web"] / len(inside), 3)
                                          if inside else None),
            "cpu_seconds": cpu,
            "contention": contention(cpu),
        } for inside, cpu in runs],
    }


def ratio(numerator, denominator):
    return round(numerator / denominator, 3) if numerator and denominator else None


# ---------------------------------------------------------------- main


def main():
    """Build the history, run the four scenarios interleaved, print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=None,
                        help="conversations in the demo brand's history (2,000; 300 with --quick)")
    parser.add_argument("--messages-per-conversation", type=int, default=4,
                        help="messages of each generated conversation (4)")
    parser.add_argument("--clients", type=int, default=None,
                        help="concurrent closed-loop clients (8; 4 with --quick)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="measured seconds per scenario and round (10; 3 with --quick)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="uncounted warm-up seconds before each (2; 1 with --quick)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of the four scenarios, interleaved (2; 1 with --quick)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--quick", action="store_true",
                        help="small and short, for a smoke run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the schema for inspection (its name is on stderr)")
    args = parser.parse_args()
    for name, normal, quick in (("conversations", 2000, 300), ("clients", 8, 4),
                                ("seconds", 10, 3), ("warmup", 2, 1), ("rounds", 2, 1)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else normal)
    if args.conversations < 2 * PAGE:
        sys.exit(f"need --conversations >= {2 * PAGE}")

    started = time.monotonic()
    password = "bench-" + uuid.uuid4().hex[:12]
    result = None
    with fresh_schema(log, keep=args.keep) as (schema, dsn, server_version):
        env = {"DATABASE_URL": dsn, "KULAK_RATE_LIMITS": "off", "SECRET_KEY": uuid.uuid4().hex,
               "KULAK_DEMO_PASSWORD": password, "REDIS_URL": None}
        server = KulakServer(env=env, workers=args.workers, progress=log)
        try:
            server.start()  # `kulak demo` (migrations, the demo brand) then `kulak serve`
            log(f"generating {args.conversations} conversations x "
                f"{args.messages_per_conversation} messages")
            data = generate(schema, args.conversations, args.messages_per_conversation, log)
            manager_id = staff_id_of(schema, MANAGER)
            inbox_rows, targets = shape_history(schema, manager_id)
            log(f"manager's inbox: {inbox_rows} open; posts go to {len(targets)} conversations")
            token, token_source = api_token(server)
            session = sign_in(server.url, MANAGER, password, timeout=TIMEOUT)
            calls = Calls(server.url, token, session.cookies, manager_id, targets)
            seen = preflight(calls)
            runs = {scenario: [] for scenario in SCENARIOS}
            for round_ in range(args.rounds):
                for n, scenario in enumerate(SCENARIOS):
                    log(f"round {round_ + 1}/{args.rounds} {scenario}: {args.clients} clients, "
                        f"{args.warmup}s warm-up + {args.seconds}s")
                    inside, cpu = closed_loop(calls, scenario, server, args.clients,
                                              args.seconds, args.warmup, round_ * 10 + n)
                    runs[scenario].append((inside, cpu))
                    per = 1000 * cpu["server_web"] / len(inside) if inside else float("nan")
                    log(f"  {len(inside) / cpu['wall_seconds']:.1f}/s, server "
                        f"{per:.2f} CPU ms/request")
                    if server.process.poll() is not None:
                        raise RuntimeError(f"server died: {server.log_tail()}")
            scenarios = {scenario: summarize(scenario, runs[scenario]) for scenario in SCENARIOS}
            for scenario in SCENARIOS:
                scenarios[scenario]["first_answer"] = seen[scenario]
            cpu = {s: scenarios[s]["server_cpu_seconds_per_request"] for s in SCENARIOS}
            ratios = {
                "api_list_cpu_per_request / inbox_cpu_per_request":
                    ratio(cpu["api_list"], cpu["inbox_list"]),
                "api_post_cpu_per_request / customer_post_cpu_per_request":
                    ratio(cpu["api_post"], cpu["customer_post"]),
                "api_list_p50 / inbox_p50": ratio(scenarios["api_list"]["latency"]["p50_ms"],
                                                  scenarios["inbox_list"]["latency"]["p50_ms"]),
                "api_post_p50 / customer_post_p50": ratio(
                    scenarios["api_post"]["latency"]["p50_ms"],
                    scenarios["customer_post"]["latency"]["p50_ms"]),
            }
            key = "api_list_cpu_per_request / inbox_cpu_per_request"
            errors = sum(s["errors"] for s in scenarios.values())
            result = {
                "benchmark": "api",
                "headline": {s: {"requests_per_s": scenarios[s]["requests_per_s"],
                                 "p50_ms": scenarios[s]["latency"]["p50_ms"],
                                 "p99_ms": scenarios[s]["latency"]["p99_ms"],
                                 "server_cpu_ms_per_request":
                                     scenarios[s]["server_cpu_ms_per_request"],
                                 "errors": scenarios[s]["errors"]} for s in SCENARIOS},
                "ratios": ratios,
                "floor": {key: {"floor": FLOOR[key], "measured": ratios[key],
                                "ok": ratios[key] is not None and ratios[key] <= FLOOR[key]}},
                "meets_floor": bool(ratios[key] is not None and ratios[key] <= FLOOR[key]
                                    and not errors),
                "meets_floor_means": f"{key} <= {FLOOR[key]} and no scenario had an error",
                "scenarios": scenarios,
                "history": {
                    "conversations": args.conversations,
                    "messages_per_conversation": args.messages_per_conversation,
                    "manager_inbox_open_conversations": inbox_rows,
                    "post_target_conversations": len(targets),
                    "generation": data,
                },
                "settings": {"clients": args.clients, "seconds": args.seconds,
                             "warmup_seconds": args.warmup, "rounds": args.rounds,
                             "order": "interleaved: " + " ".join(SCENARIOS) + " per round",
                             "quick": args.quick, "api_token": token_source,
                             "load_generator": "this process: one thread and one "
                                               "requests.Session per client"},
                "server": {
                    "command": "kulak serve", "workers": args.workers, "worker_class": "gevent",
                    "database": "postgresql", "postgresql_version": server_version,
                    "redis": None, "rate_limits": "off",
                    "schema_kept": schema if args.keep else None,
                    "server_log_warnings_and_errors": log_errors(server.log_text()),
                },
                "machine": machine_info(),
                "caveat": (f"server ({args.workers} gevent workers), PostgreSQL and the load "
                           f"generator share {os.cpu_count()} cores: compare the CPU per "
                           "request, not the requests/s, and only when other_processes is "
                           "near 0; background jobs run in the web process (no Redis) and "
                           "count in its CPU"),
            }
        finally:
            server.stop()
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
