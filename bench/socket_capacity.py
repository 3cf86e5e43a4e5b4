#!/usr/bin/env python3
"""Open WebSockets one web process holds, and its memory (floor: 5,000 sockets at <= 1 GB RSS).

Creates a fresh PostgreSQL schema (dropped at the end), picks a Redis database that holds no
keys, and starts one `kulak serve --workers 1` (gunicorn, one gevent worker) with the per-IP
rate limits off. It opens C conversations through the real help form, then opens K customer
WebSockets (`/c/<token>/ws`, spread evenly over the conversations), in steps, and reads the
worker's resident memory (VmRSS of /proc/<pid>/status, the gunicorn worker is the arbiter's
child) at 0 sockets and at each checkpoint. A socket counts as open once its first frame (the
resync fragment the server sends after joining its hub) has arrived. It then holds every
socket for --hold seconds (longer than the server's 25 s ping interval, so a ping round
happens and the client answers it), posts one customer message to each conversation, and
counts how many sockets receive the frame that carries it, and how long the last one took.
Finally it closes every socket and reads the memory once more. The load generator is this
one process under gevent, on the same cores. Prints exactly one JSON object on stdout;
progress goes to stderr.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
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
    rss_kib,
    wait_for_idle,
)
from ws_client import open_sockets  # noqa: E402

FLOOR = {"sockets": 5000, "rss_bytes": 10**9}


def log(*parts):
    """Print a progress line on stderr."""
    print("[socket_capacity]", *parts, file=sys.stderr, flush=True)


def open_fds(pid):
    """Return how many file descriptors a process holds open, or None if it is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class Broadcast:
    """Count, per conversation, the sockets whose frame carries that conversation's marker."""

    def __init__(self):
        self.markers = {}  # conversation id -> marker bytes
        self.t0 = {}
        self.arrivals = {}  # conversation id -> [seconds after the post was sent]
        self.expected = {}
        self.done = {}

    def on_text(self, client, payload, arrived):
        """Note a frame that carries its conversation's marker, once per socket."""
        marker = self.markers.get(client.conversation_id)
        if marker is None or marker in client.seen or marker not in payload:
            return
        client.seen.add(marker)
        arrivals = self.arrivals[client.conversation_id]
        arrivals.append(arrived - self.t0[client.conversation_id])
        if len(arrivals) >= self.expected[client.conversation_id]:
            self.done[client.conversation_id].set()


def main():
    """Parse the options, measure on a fresh schema and Redis database, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=5000, help="sockets to open (5000)")
    parser.add_argument("--conversations", type=int, default=50,
                        help="conversations the sockets are spread over (50)")
    parser.add_argument("--checkpoints", default="1000,2500,5000",
                        help="socket counts at which to read the memory (1000,2500,5000)")
    parser.add_argument("--hold", type=float, default=30,
                        help="seconds to hold every socket before the broadcast (30)")
    lc.add_common_arguments(parser, connect_concurrency=100, delivery_timeout=30)
    args = parser.parse_args()
    checkpoints = sorted({int(n) for n in args.checkpoints.split(",") if n} | {args.sockets})
    checkpoints = [n for n in checkpoints if 0 < n <= args.sockets]
    lc.run_live(log, args, 2 * args.sockets + 2048,
                lambda setup: measure(setup, args, checkpoints))


def measure(setup, args, checkpoints):
    """Open the sockets in steps, hold them, broadcast, close them; return the JSON result."""
    server = setup.start_server(1)
    worker = server.wait_for_workers()[0]
    log(f"opening {args.conversations} conversations")
    conversations = setup.open_conversations(server.url, args.conversations)
    with requests.Session() as session:
        for token, _ in conversations[:5]:  # warm the conversation page and its templates
            session.get(f"{server.url}/c/{token}", timeout=30)

    broadcast = Broadcast()
    spread = [conversations[n % len(conversations)] for n in range(args.sockets)]
    specs = [("customer", cid, f"/c/{token}/ws", ()) for token, cid in spread]
    time.sleep(1)
    samples = [{"sockets": 0, "worker_rss_kib": rss_kib(worker),
                "worker_open_fds": open_fds(worker),
                "load_generator_rss_kib": rss_kib(os.getpid())}]
    log(f"0 sockets: worker RSS {samples[0]['worker_rss_kib']} KiB")
    idle = wait_for_idle(args.wait_idle, log)
    clients, errors, opened_at = [], [], 0
    cpu0, wall0 = cpu_counters({"worker": server}), time.perf_counter()
    for checkpoint in checkpoints:
        batch = specs[opened_at:checkpoint]
        t = time.perf_counter()
        new, new_errors = open_sockets(server.port, batch, args.connect_concurrency,
                                       on_text=broadcast.on_text)
        took = time.perf_counter() - t
        clients += new
        errors += new_errors
        opened_at = checkpoint
        time.sleep(1)
        sample = {
            "sockets": checkpoint,
            "sockets_open": sum(1 for c in clients if not c.closed),
            "worker_rss_kib": rss_kib(worker),
            "worker_open_fds": open_fds(worker),
            "load_generator_rss_kib": rss_kib(os.getpid()),
            "seconds_to_open_this_step": round(took, 2),
            "opened_per_s_this_step": round(len(new) / took, 1) if took else None,
        }
        samples.append(sample)
        log(f"{checkpoint} sockets ({sample['sockets_open']} open, {len(errors)} errors):"
            f" worker RSS {sample['worker_rss_kib']} KiB, {took:.1f}s for this step")
    open_cpu = cpu_split(cpu0, cpu_counters({"worker": server}), time.perf_counter() - wall0)

    log(f"holding {len(clients)} sockets for {args.hold}s")
    gevent.sleep(args.hold)
    open_after_hold = sum(1 for c in clients if not c.closed)
    rss_after_hold = rss_kib(worker)

    log("broadcast: one post per conversation")
    per_conversation = {}
    for client in clients:
        if not client.closed:
            per_conversation[client.conversation_id] = (
                per_conversation.get(client.conversation_id, 0) + 1)
    poster = lc.Poster(server.port)
    post_errors, fanout = [], {}
    cpu0, wall0 = cpu_counters({"worker": server}), time.perf_counter()
    for token, cid in conversations:
        if not per_conversation.get(cid):
            continue
        marker = f"cap{cid}x{uuid.uuid4().hex[:8]}"
        broadcast.expected[cid] = per_conversation[cid]
        broadcast.arrivals[cid] = []
        broadcast.done[cid] = gevent.event.Event()
        broadcast.markers[cid] = marker.encode()
        broadcast.t0[cid] = time.perf_counter()
        try:
            status, _ = poster.post(token, f"Broadcast {marker}: anyone there?")
            if status != 303:
                post_errors.append(f"HTTP {status}")
        except Exception as error:  # noqa: BLE001 - counted
            post_errors.append(type(error).__name__)
        broadcast.done[cid].wait(args.delivery_timeout)
        arrivals = broadcast.arrivals[cid]
        fanout[cid] = (len(arrivals), max(arrivals) if arrivals else None)
    poster.close()
    broadcast_cpu = cpu_split(cpu0, cpu_counters({"worker": server}),
                              time.perf_counter() - wall0)
    delivered = sum(n for n, _ in fanout.values())
    expected = sum(per_conversation.values())
    last_arrivals = [t for _, t in fanout.values() if t is not None]
    first_arrivals = [min(broadcast.arrivals[c]) for c in fanout if broadcast.arrivals[c]]
    rss_after_broadcast = rss_kib(worker)
    open_after_broadcast = sum(1 for c in clients if not c.closed)

    log("closing every socket")
    baseline_fds = samples[0]["worker_open_fds"] or 0
    closed_at = time.perf_counter()
    for client in clients:
        client.close()
    released_after = None  # seconds until the worker's descriptors are back to 0-socket
    while time.perf_counter() - closed_at < 30:
        if (open_fds(worker) or 0) <= baseline_fds + 10:
            released_after = round(time.perf_counter() - closed_at, 2)
            break
        time.sleep(0.25)
    time.sleep(1)
    rss_after_close = rss_kib(worker)
    if server.process.poll() is not None:
        raise RuntimeError(f"server died: {server.log_tail()}")

    peak = max(s["worker_rss_kib"] or 0 for s in samples)
    top = samples[-1]
    held = min(open_after_hold, open_after_broadcast)
    per_socket = None
    if top["sockets_open"] and samples[0]["worker_rss_kib"]:
        per_socket = round((top["worker_rss_kib"] - samples[0]["worker_rss_kib"])
                           / top["sockets_open"], 1)
    rss_bytes = max(peak, rss_after_hold or 0, rss_after_broadcast or 0) * 1024
    return {
        "benchmark": "socket_capacity",
        "headline": {
            "sockets_held": held,
            "worker_rss_mib_at_most": round(rss_bytes / 2**20, 1),
            "kib_per_socket": per_socket,
            "broadcast_delivered": delivered,
            "broadcast_expected": expected,
            "floor": {"sockets": FLOOR["sockets"], "rss_bytes_at_most": FLOOR["rss_bytes"]},
            "meets_floor": bool(held >= FLOOR["sockets"] and rss_bytes <= FLOOR["rss_bytes"]
                                and delivered == expected and not post_errors),
        },
        "samples": samples,
        "open_errors": errors[:10],
        "open_error_count": len(errors),
        "cpu_seconds_while_opening": open_cpu,
        "server_cpu_ms_per_socket_opened": (
            round(1000 * open_cpu["server_worker"] / len(clients), 2) if clients else None),
        "contention_while_opening": {**contention(open_cpu), "waited_for_idle": idle},
        "hold": {"seconds": args.hold, "sockets_open_after": open_after_hold,
                 "worker_rss_kib_after": rss_after_hold},
        "broadcast": {
            "posts": len(fanout),
            "sockets_per_conversation": round(expected / len(fanout), 1) if fanout else None,
            "delivered": delivered,
            "expected": expected,
            "post_errors": post_errors[:10],
            "first_socket_of_conversation": lc.latency_summary(first_arrivals),
            "last_socket_of_conversation": lc.latency_summary(last_arrivals),
            "sockets_open_after": open_after_broadcast,
            "worker_rss_kib_after": rss_after_broadcast,
            "cpu_seconds": broadcast_cpu,
        },
        "after_closing_every_socket": {
            "worker_rss_kib": rss_after_close,
            "worker_open_fds": open_fds(worker),
            "seconds_until_descriptors_released": released_after,
        },
        "conversations": len(conversations),
        "open_files_limit": setup.open_files,
        "server": setup.server_settings(1, server),
        "load_generator": ("this process: gevent, raw-socket WebSocket client "
                           "(bench/ws_client.py)"),
        "machine": lc.machine_info(),
        "caveat": (f"server, PostgreSQL, Redis and the load generator share "
                   f"{os.cpu_count()} cores; RSS is the one gunicorn worker's (the "
                   "arbiter holds no sockets)"),
    }


if __name__ == "__main__":
    main()
