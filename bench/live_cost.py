#!/usr/bin/env python3
"""Server CPU and bytes sent per live event, by conversation length and open sockets (issue 17).

One `kulak serve --workers 1` on a fresh PostgreSQL schema and an empty Redis database, rate
limits off. For each length (2, 100, 1,000 messages), each count N of customer sockets (1, 3,
10) and each kind of event (a customer message, a staff reply by the demo agent; both forms
without script), a conversation of its own: opened through the help form, brought to its length
by the app's models in a child process, listened to by N customer sockets and one staff socket.
After one uncounted warm-up event, K events go one at a time, each the next once every socket
has the frame carrying its marker. Reported per cell: the gunicorn worker's CPU ms per event,
the new-message frame's bytes per socket kind, all bytes the sockets got per event; and the
longest length's figures over the shortest's (floor <= 1.2), the largest new-message frame
(floor <= 2 KB). Relies only on: frames are text; a new message's frame holds its body.
Prints one JSON object on stdout; progress on stderr (see bench/README.md).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import requests  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
import live_common as lc  # noqa: E402
from cpu_accounting import (  # noqa: E402
    contention,
    cpu_counters,
    cpu_split,
    pid_cpu_seconds,
    wait_for_idle,
)
from ws_client import WSClient  # noqa: E402

from harness import clients as people  # noqa: E402
from harness.servers import ROOT  # noqa: E402

FLOORS = {"longest_over_shortest_at_most": 1.2, "new_message_frame_bytes_at_most": 2048}
KINDS = ("customer_message", "staff_reply")
# Run in a child process with the server's environment: the app's own models write the earlier
# messages, as its posts would, without their classification, outbox or live events.
SEED = """
import json, sys
from app import create_app
from models import Conversation, Message, StaffMember, db
app = create_app()
counts = {}
with app.app_context():
    agent = db.session.scalar(db.select(StaffMember).filter_by(email=sys.argv[2]))
    for cid, total in json.loads(sys.argv[1]):
        conversation = db.session.get(Conversation, cid)
        shown = db.select(db.func.count(Message.id)).filter_by(conversation_id=cid,
                                                               internal=False)
        for n in range(db.session.scalar(shown), total):
            staff = n % 2 == 1
            conversation.add_message("staff" if staff else "customer",
                                     f"Earlier message {n}: " + ("We are on it, thank you."
                                     if staff else "Could someone look at the shower again?"),
                                     staff=agent if staff else None)
        db.session.commit()
        counts[cid] = db.session.scalar(shown)
print(json.dumps(counts))
"""


def log(*parts):
    """Print a progress line on stderr."""
    print("[live_cost]", *parts, file=sys.stderr, flush=True)


class Marker:
    """Wait for one marker on every socket, noting the size of the frame that carries it."""

    def __init__(self):
        self.text, self.sizes, self.expected, self.done = None, {}, 0, gevent.event.Event()

    def expect(self, text, sockets):
        self.text, self.sizes, self.expected = text.encode(), {}, len(sockets)
        self.done.clear()

    def on_text(self, client, payload, arrived):
        if self.text and self.text in payload and client not in self.sizes:
            self.sizes[client] = len(payload)
            if len(self.sizes) >= self.expected:
                self.done.set()


def seed(server, lengths):
    """Bring each conversation to its length {id: messages}; return the counts reached."""
    done = subprocess.run([sys.executable, "-c", SEED, json.dumps(list(lengths.items())),
                           lc.DEMO_STAFF_EMAIL], env=server.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed: {done.stderr[-2000:]}")
    return {int(cid): count for cid, count in json.loads(done.stdout).items()}


class Lane:
    """One conversation of a length, its sockets, its poster and what its events cost."""

    def __init__(self, server, kind, length, messages, conversation, customers, cookie, staff):
        self.length, self.messages, self.kind = length, messages, kind
        self.url, (self.token, self.cid), self.staff = server.url, conversation, staff
        self.session, self.marker = requests.Session(), Marker()
        specs = [("customer", f"/c/{self.token}/ws", ())] * customers
        specs.append(("staff", f"/inbox/ws?conversation={self.cid}", cookie))
        self.sockets = []
        for label, path, headers in specs:
            self.sockets.append(WSClient(label, self.cid, self.marker.on_text))
            self.sockets[-1].connect(server.port, path, headers)
        if kind == "staff_reply":  # one CSRF token for the session, read once
            page = staff.get(f"{server.url}/inbox/c/{self.cid}", timeout=60)
            self.csrf = people.csrf_token(page.text)
        self.cpu, self.sent, self.frames, self.posts, self.deliveries = 0.0, 0, 0, [], []
        self.frame_sizes = {"customer": [], "staff": []}

    def post(self, marker):
        """Post one event as a browser without script does."""
        body = f"Message {marker}: is the shower fixed yet?"
        if self.kind == "customer_message":
            people.customer_post(self.url, f"/c/{self.token}", body, self.session,
                                 client_id=uuid.uuid4().hex)
        else:
            people.staff_reply(self.staff, self.url, self.cid, body, self.csrf,
                               client_id=uuid.uuid4().hex)

    def event(self, seq, timeout):
        """Post one event, wait for its frame on every socket; return whether all had it."""
        text = f"lc{seq:04d}x{uuid.uuid4().hex[:8]}"
        self.marker.expect(text, self.sockets)
        began = time.perf_counter()
        self.post(text)
        self.posts.append(time.perf_counter() - began)
        if not self.marker.done.wait(timeout):
            return False
        self.deliveries.append(time.perf_counter() - began)
        for client, size in self.marker.sizes.items():
            self.frame_sizes[client.label].append(size)
        return True

    def received(self):
        return sum(s.bytes for s in self.sockets), sum(s.frames for s in self.sockets)

    def close(self):
        for client in self.sockets:
            client.close()

    def cell(self, events, cpu, idle):
        return {
            "messages_before_first_event": self.messages + 1,  # the warm-up added one
            "sockets": {"customer": len(self.sockets) - 1, "staff": 1,
                        "closed_by_server": sum(1 for s in self.sockets if s.close_code)},
            "events": events,
            "delivered_to_every_socket": len(self.deliveries),
            "server_cpu_ms_per_event": round(1000 * self.cpu / events, 2),
            "new_message_frame_bytes": {label: sizes_summary(sizes)
                                        for label, sizes in self.frame_sizes.items()},
            "socket_bytes_per_event": round(self.sent / events, 1),
            "frames_per_event": round(self.frames / events, 2),
            "post_response": lc.latency_summary(self.posts),
            "delivery_to_every_socket": lc.latency_summary(self.deliveries),
            "cpu_seconds_of_the_interleaved_lengths": cpu,
            "contention": {**contention(cpu), "waited_for_idle": idle},
        }


def quiet(sockets, seconds=0.3, limit=5):
    """Wait until no socket has received a frame for `seconds` (at most `limit` s)."""
    deadline, last = time.perf_counter() + limit, sum(s.bytes for s in sockets)
    while time.perf_counter() < deadline:
        gevent.sleep(seconds)
        if (now := sum(s.bytes for s in sockets)) == last:
            return
        last = now


def sizes_summary(sizes):
    return {"first": sizes[0], "median": statistics.median(sizes), "max": max(sizes)} \
        if sizes else None


def run_lanes(server, workers, lanes, args):
    """Warm each lane up, then post K events to each, the lanes taking turns event by event."""
    # Turns, not one length after the other: a machine that slows down meanwhile (shared
    # cores) then slows every length alike, and the ratios between lengths stay honest.
    def worker_cpu():
        return sum(pid_cpu_seconds(pid) or 0 for pid in workers)

    for lane in lanes:
        if not lane.event(0, args.delivery_timeout):
            raise RuntimeError(f"a warm-up event missed a socket; {server.log_tail()}")
        lane.posts, lane.deliveries, lane.frame_sizes = [], [], {"customer": [], "staff": []}
    quiet([s for lane in lanes for s in lane.sockets])
    idle = wait_for_idle(args.wait_idle, log)
    cpu0, wall0 = cpu_counters({"web": server}), time.perf_counter()
    for seq in range(1, args.events + 1):
        for lane in lanes[seq % len(lanes):] + lanes[:seq % len(lanes)]:
            cpu, (sent, frames) = worker_cpu(), lane.received()
            lane.event(seq, args.delivery_timeout)
            quiet(lane.sockets, 0.1)  # its seen marks too, before the next lane's turn
            now_sent, now_frames = lane.received()
            lane.cpu += worker_cpu() - cpu
            lane.sent, lane.frames = lane.sent + now_sent - sent, lane.frames + now_frames - frames
    cpu = cpu_split(cpu0, cpu_counters({"web": server}), time.perf_counter() - wall0)
    return {lane.length: lane.cell(args.events, cpu, idle) for lane in lanes}


def figures(cell):
    """Return the figures that the length must not grow: CPU, frame and total bytes."""
    frames = cell["new_message_frame_bytes"]
    return {"server_cpu_ms_per_event": cell["server_cpu_ms_per_event"],
            "customer_frame_bytes": (frames["customer"] or {}).get("median"),
            "staff_frame_bytes": (frames["staff"] or {}).get("median"),
            "socket_bytes_per_event": cell["socket_bytes_per_event"]}


def ratios(cells, shortest, longest):
    """Return, per socket count and kind, each figure at the longest over the shortest."""
    found = {}
    for sockets, by_kind in cells[longest].items():
        for kind, cell in by_kind.items():
            low, high = figures(cells[shortest][sockets][kind]), figures(cell)
            found[f"{sockets}/{kind}"] = {
                name: round(high[name] / low[name], 2) if high[name] and low[name] else None
                for name in high}
    return found


def main():
    """Parse the options, measure on a fresh schema and Redis database, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="2,100,1000",
                        help="messages in the conversation before the events (2,100,1000)")
    parser.add_argument("--sockets", default="1,3,10",
                        help="customer sockets on the conversation, beside the staff one (1,3,10)")
    parser.add_argument("--events", type=int, default=30, help="measured events per cell (30)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="events: " + ", ".join(KINDS))
    lc.add_common_arguments(parser, delivery_timeout=10)
    args = parser.parse_args()
    lc.run_live(log, args, 4096, lambda setup: measure(setup, args), demo_password=True)


def measure(setup, args):
    """Run every cell on one server; return the JSON."""
    lengths = sorted({int(n) for n in args.lengths.split(",")})
    counts = [int(n) for n in args.sockets.split(",")]
    kinds = args.kinds.split(",")
    server = setup.start_server(1)
    workers = server.worker_pids()
    staff = people.sign_in(server.url, lc.DEMO_STAFF_EMAIL, setup.password)
    cookie = [("Cookie", people.cookie_header(staff))]
    plan = [(n, kind, length) for n in counts for kind in kinds for length in lengths]
    conversations = setup.open_conversations(server.url, len(plan))
    began = time.perf_counter()
    reached = seed(server, {cid: length for (_, cid), (_, _, length) in zip(
        conversations, plan, strict=True)})
    log(f"seeded {len(plan)} conversations in {time.perf_counter() - began:.1f}s")
    cells, pending = {}, list(zip(plan, conversations, strict=True))
    for n in counts:
        for kind in kinds:
            group, pending = pending[:len(lengths)], pending[len(lengths):]
            lanes = [Lane(server, kind, length, reached[conversation[1]], conversation, n,
                          cookie, staff) for (_, _, length), conversation in group]
            try:
                found = run_lanes(server, workers, lanes, args)
            finally:
                for lane in lanes:
                    lane.close()
            for length, cell in found.items():
                cells.setdefault(f"{length}_messages", {}).setdefault(
                    f"{n}_customer_sockets", {})[kind] = cell
                log(f"{length} messages, {n}+1 sockets, {kind}: " + ", ".join(
                    f"{name} {value}" for name, value in figures(cell).items()))
    if server.process.poll() is not None:
        raise RuntimeError(f"server died: {server.log_tail()}")
    shortest, longest = f"{lengths[0]}_messages", f"{lengths[-1]}_messages"
    found = ratios(cells, shortest, longest)
    sizes = [s for by_n in cells.values() for by_kind in by_n.values()
             for cell in by_kind.values() for s in cell["new_message_frame_bytes"].values() if s]
    largest = max((s["max"] for s in sizes), default=None)
    worst = max((v for r in found.values() for v in r.values() if v is not None), default=None)
    return {
        "benchmark": "live_cost",
        "what": ("server CPU and bytes per live event on one conversation, by its length and "
                 "the sockets open on it (N customer sockets + 1 staff socket)"),
        "headline": {
            "server_cpu_ms_per_event": {length: {n: {k: c["server_cpu_ms_per_event"]
                                                     for k, c in by_kind.items()}
                                                 for n, by_kind in by_n.items()}
                                        for length, by_n in cells.items()},
            f"{longest}_over_{shortest}": found,
            "largest_ratio": worst,
            "largest_new_message_frame_bytes": largest,
            "largest_median_new_message_frame_bytes": max((s["median"] for s in sizes),
                                                          default=None),
            "floors": FLOORS,
            "meets_floors": bool(worst is not None and worst <= FLOORS[
                "longest_over_shortest_at_most"] and largest is not None and largest <= FLOORS[
                "new_message_frame_bytes_at_most"]),
        },
        "cells": cells,
        "seeding": ("each conversation opened through the help form (2 messages: the "
                    "customer's and the acknowledgement), then brought to its length by "
                    "Conversation.add_message in a child process on the same DATABASE_URL, "
                    "customer and agent in turn; each measured event adds one message"),
        "settings": {"lengths": lengths, "customer_sockets": counts, "kinds": kinds,
                     "events_per_cell": args.events, "warmup_events_per_cell": 1,
                     "order": ("the lengths of one socket count and kind take turns, event "
                               "by event; CPU per event is the worker's CPU from each post "
                               "until its sockets are quiet again")},
        "server": setup.server_settings(1, server),
        "load_generator": "this process: gevent, raw-socket WebSocket client, requests posts",
        "machine": lc.machine_info(),
        "caveat": (f"server, PostgreSQL, Redis and the load generator share {os.cpu_count()} "
                   "cores; CPU per event is the gunicorn worker's own, which competition "
                   "changes much less than latency"),
    }


if __name__ == "__main__":
    main()
