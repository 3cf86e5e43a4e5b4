#!/usr/bin/env python3
"""Alert latency and escalation lateness (issue 5 floors: p99 <= 2 s, lateness <= 2 s).

Creates a fresh PostgreSQL schema (dropped at the end), picks a Redis database that holds no
keys, runs `kulak demo`, `kulak serve --workers W` (gunicorn, gevent) and R `kulak worker`
processes (RQ with the scheduler, each with its outbox sweep). Every member of the demo's
front desk gets a `json://` alert target pointing at a local HTTP receiver in this process,
and the brand's escalation policy becomes one level: no staff reply after E seconds -> alert
the team lead. Then N conversations are opened at once through the real help form (N threads).

- alert latency: from each conversation's created_at (stamped just before its commit, so this
  slightly overstates it) to the arrival of each "new conversation" alert at the receiver;
- escalation lateness: from each level's deadline (escalation.due_at) to the arrival of its
  alert at the receiver, and to the moment the database stamped it fired.

Nobody replies, so every conversation escalates once. All clocks are this machine's. Prints
exactly one JSON object on stdout; progress goes to stderr.
"""
import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
import psycopg  # noqa: E402
import requests  # noqa: E402
from live_common import latency_summary, machine_info  # noqa: E402

from harness.clients import open_conversation  # noqa: E402
from harness.databases import ADMIN_DSN, fresh_schema, scratch_redis_db  # noqa: E402
from harness.receivers import HttpReceiver  # noqa: E402
from harness.servers import KulakServer, KulakWorker, stop_all  # noqa: E402

FLOOR = {"alert_p99_ms": 2000, "escalation_lateness_p99_ms": 2000}


def log(*parts):
    print("[alert_latency]", *parts, file=sys.stderr, flush=True)


def prepare(schema, receiver_port, escalate_after):
    """Point the front desk's alerts at the receiver; make the policy one short level."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as db:
        db.execute(f'SET search_path TO "{schema}"')
        brand = db.execute("SELECT id FROM brand WHERE slug = 'demo'").fetchone()[0]
        staff = db.execute("SELECT s.id, s.role FROM staff_member s JOIN team_membership m "
                           "ON m.staff_id = s.id").fetchall()
        for staff_id, role in staff:
            db.execute("INSERT INTO alert_target (brand_id, staff_id, url, label, created_at) "
                       "VALUES (%s, %s, %s, %s, now())",
                       (brand, staff_id, f"json://127.0.0.1:{receiver_port}/{role}", role))
        db.execute("DELETE FROM escalation_level WHERE brand_id = %s", (brand,))
        db.execute("INSERT INTO escalation_level (brand_id, position, waits_for, after_seconds, "
                   "urgent_after_seconds, action, target_kind, target_value) VALUES "
                   "(%s, 0, 'reply', %s, %s, 'alert', 'role', 'lead')",
                   (brand, escalate_after, escalate_after))
    return len(staff)


def database_times(schema):
    """Return ({conversation id: created_at}, {conversation id: (due_at, fired_at)})."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as db:
        db.execute(f'SET search_path TO "{schema}"')
        created = dict(db.execute("SELECT id, created_at FROM conversation").fetchall())
        levels = {cid: (due, fired) for cid, due, fired in db.execute(
            "SELECT conversation_id, due_at, fired_at FROM escalation").fetchall()}
        relayed = dict(db.execute("SELECT conversation_id, relayed_at FROM outbox_event "
                                  "WHERE kind = 'conversation.created'").fetchall())
    return created, levels, relayed


def arrivals(receiver):
    """Return (wall-clock arrival, path, alert) of each alert Apprise posted to the receiver."""
    return [(r["wall"], r["path"], json.loads(r["body"])) for r in list(receiver.requests)]


def epoch(naive_utc):
    return naive_utc.replace(tzinfo=UTC).timestamp()


def conversation_of(alert):
    return int(alert["message"].rsplit("/inbox/c/", 1)[1].split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--rq-workers", type=int, default=2, help="kulak worker processes (2)")
    parser.add_argument("--escalate-after", type=int, default=10,
                        help="seconds without a reply before the level fires (10)")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for alerts")
    args = parser.parse_args()
    receiver = HttpReceiver().start()
    with scratch_redis_db(args.redis_url) as redis_url, \
            fresh_schema(log) as (schema, dsn, pg_version):
        server = KulakServer(env={"DATABASE_URL": dsn, "REDIS_URL": redis_url,
                                  "KULAK_RATE_LIMITS": "off"},
                             workers=args.workers, progress=log)
        workers = []
        try:
            server.start()
            team_size = prepare(schema, receiver.port, args.escalate_after)
            workers = [KulakWorker(server.folder, server.env, f"worker-{n}.log").start()
                       for n in range(args.rq_workers)]
            time.sleep(3)  # the workers connect and register
            log(f"opening {args.conversations} conversations at once")
            with ThreadPoolExecutor(args.conversations) as pool:
                sessions = [requests.Session() for _ in range(args.conversations)]
                tokens = list(pool.map(lambda s: open_conversation(
                    server.url, "Could we have more towels in the room please?", s,
                    client_id=uuid.uuid4().hex), sessions))
            expected_alerts = args.conversations * team_size
            deadline = time.monotonic() + args.escalate_after + args.wait
            while time.monotonic() < deadline:
                kinds = Counter("escalated" in a[2]["title"] for a in arrivals(receiver))
                if kinds[False] >= expected_alerts and kinds[True] >= args.conversations:
                    break
                time.sleep(0.2)
            time.sleep(2)  # late duplicates, if any, arrive meanwhile
            created, levels, relayed = database_times(schema)
        finally:
            stop_all([*workers, server])
    receiver.stop()
    new, escalated = [], []
    for arrived, path, alert in arrivals(receiver):
        cid = conversation_of(alert)
        if "escalated" in alert["title"]:
            escalated.append((cid, path, arrived))
        else:
            new.append((cid, path, arrived))
    alert_latency = [arrived - epoch(created[cid]) for cid, _, arrived in new]
    lateness = [arrived - epoch(levels[cid][0]) for cid, _, arrived in escalated]
    # Where the time goes: the web request (until its relay marked the event queued), then the
    # queue and the job.
    web_part = [(relayed[cid] - created[cid]).total_seconds() for cid in relayed
                if relayed[cid]]
    fired_lateness = [(fired - due).total_seconds() for due, fired in levels.values() if fired]
    duplicates = sum(n - 1 for n in Counter(
        [("new", c, p) for c, p, _ in new] + [("escalated", c, p) for c, p, _ in escalated])
        .values() if n > 1)
    alert_summary, lateness_summary = latency_summary(alert_latency), latency_summary(lateness)
    result = {
        "benchmark": "alert_latency",
        "machine": machine_info(),
        "settings": {"conversations_opened_at_once": args.conversations,
                     "gunicorn_workers": args.workers, "worker_class": "gevent",
                     "rq_worker_processes": args.rq_workers,
                     "alert_channel": "Apprise json:// to a local HTTP receiver",
                     "escalation_level": f"no reply after {args.escalate_after} s -> alert lead",
                     "postgresql": pg_version, "redis": redis_url,
                     "opened": sum(1 for t in tokens if t), "run_at": datetime.now(UTC).isoformat()},
        "new_conversation_alerts": {"expected": expected_alerts, "received": len(new),
                                    "latency_from_commit": alert_summary,
                                    "web_part_until_queued": latency_summary(web_part)},
        "escalations": {"expected": args.conversations, "received": len(escalated),
                        "lateness_at_receiver": lateness_summary,
                        "lateness_fired_in_database": latency_summary(fired_lateness)},
        "duplicates": duplicates,
        "floor": FLOOR,
        "meets_floor": bool(
            len(new) == expected_alerts and len(escalated) == args.conversations
            and duplicates == 0 and alert_summary["p99_ms"] is not None
            and alert_summary["p99_ms"] <= FLOOR["alert_p99_ms"]
            and lateness_summary["p99_ms"] <= FLOOR["escalation_lateness_p99_ms"]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
