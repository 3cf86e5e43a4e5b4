"""The customer post load of bench/post_throughput.py and bench/stack_ceiling.py (under gevent).

`POST /c/<token>` with the real form fields over keep-alive connections, in a closed loop (C
clients, each posts again once its answer is read) or an open loop (posts start on a
schedule, whether or not earlier ones have been answered; latency counts from the schedule).
"""
# The scripts that import this module monkey-patch first: one process holds every client.

import http.client
import random
import time
import uuid
from collections import Counter
from urllib.parse import urlencode

import gevent
import live_common as lc
from gevent.lock import BoundedSemaphore

FLOOR = {"posts_per_s": 500, "p99_ms": 100.0}


class Deliveries:
    """Time from a post's send to the frame carrying its marker on the conversation's socket."""

    def __init__(self):
        self.pending = {}  # conversation id -> {marker bytes: sent at}
        self.latencies = []
        self.listened = set()  # conversation ids with a socket
        self.expected = 0

    def sent(self, conversation_id, marker, at):
        """Expect a marker on the conversation's socket, if it has one."""
        if conversation_id in self.listened:
            self.pending.setdefault(conversation_id, {})[marker] = at
            self.expected += 1

    def on_text(self, client, payload, arrived):
        """Time each awaited marker a frame holds."""
        waiting = self.pending.get(client.conversation_id)
        if not waiting:
            return
        for marker in [m for m in waiting if m in payload]:
            self.latencies.append(arrived - waiting.pop(marker))


def form_body(marker):
    """Return the urlencoded customer form of a message holding marker."""
    return urlencode({"body": f"Benchmark message {marker}: is the shower fixed yet?",
                      "client_id": uuid.uuid4().hex, "lang": "en"})


def post(conn, token, marker):
    """Send one post on conn; return the status (raises on a connection error)."""
    conn.request("POST", f"/c/{token}", body=form_body(marker), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept-Encoding": "identity"})
    response = conn.getresponse()
    response.read()
    if response.will_close:
        conn.close()
    return response.status


class Run:
    """What one run measures, inside its window."""

    def __init__(self, measure_from, stop_at):
        self.measure_from, self.stop_at = measure_from, stop_at
        self.latencies, self.service = [], []
        self.statuses, self.errors = Counter(), Counter()
        self.completed = 0  # warm-up included: relates the server's CPU time to posts
        self.answered_in_window = 0  # successful posts whose answer came inside the window

    def record(self, due, began, ended, status=None, error=None):
        """Count one post; its latency counts if it was due inside the window."""
        self.completed += 1
        if error is None and status == 303 and self.measure_from <= ended < self.stop_at:
            self.answered_in_window += 1
        if not self.measure_from <= due < self.stop_at:
            return
        if error is not None:
            self.errors[error] += 1
            return
        self.latencies.append(ended - due)
        self.service.append(ended - began)
        self.statuses[status] += 1
        if status != 303:
            self.errors[f"HTTP {status}"] += 1


def closed_loop(port, conversations, deliveries, concurrency, seconds, warmup):
    """Run concurrency clients that post again as soon as each answer is read."""
    start = time.perf_counter() + 0.05
    run = Run(start + warmup, start + warmup + seconds)

    def client(index):
        """Post on one keep-alive connection until the time is up."""
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        gevent.sleep(max(0.0, start - time.perf_counter()))
        seq = 0
        while time.perf_counter() < run.stop_at:
            token, cid = rng.choice(conversations)
            marker = f"c{index}n{seq}x{rng.getrandbits(32):08x}"
            seq += 1
            began = time.perf_counter()
            deliveries.sent(cid, marker.encode(), began)
            try:
                status = post(conn, token, marker)
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                run.record(began, began, time.perf_counter(), error=type(error).__name__)
                continue
            run.record(began, began, time.perf_counter(), status)
        conn.close()

    gevent.joinall([gevent.spawn(client, i) for i in range(concurrency)],
                   timeout=warmup + seconds + 60)
    return run, []


def open_loop(port, conversations, deliveries, rate, seconds, warmup, max_connections, drain):
    """Start posts at rate per second on schedule, whether or not earlier ones have finished."""
    start = time.perf_counter() + 0.05
    run = Run(start + warmup, start + warmup + seconds)
    idle, slots = [], BoundedSemaphore(max_connections)
    rng = random.Random(1)
    lags, greenlets, dues = [], [], []

    def one(seq, due):
        """Send the post due at `due` on an idle connection or a new one."""
        token, cid = rng.choice(conversations)
        marker = f"o{seq}x{rng.getrandbits(32):08x}"
        with slots:
            began = time.perf_counter()
            deliveries.sent(cid, marker.encode(), began)
            reused = bool(idle)
            while True:
                conn = idle.pop() if idle else http.client.HTTPConnection("127.0.0.1", port,
                                                                          timeout=30)
                try:
                    status = post(conn, token, marker)
                    break
                except (BrokenPipeError, ConnectionResetError,
                        http.client.RemoteDisconnected) as error:
                    conn.close()
                    if reused:  # gunicorn closed it after its keep-alive timeout: retry once
                        reused = False
                        continue
                    run.record(due, began, time.perf_counter(), error=type(error).__name__)
                    return
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    run.record(due, began, time.perf_counter(), error=type(error).__name__)
                    return
            run.record(due, began, time.perf_counter(), status)
            if conn.sock is not None:
                idle.append(conn)

    total = int(rate * (warmup + seconds))
    for seq in range(total):
        due = start + seq / rate
        delay = due - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        lags.append(time.perf_counter() - due)
        greenlets.append(gevent.spawn(one, seq, due))
        dues.append(due)
    # Bounded in time: what has not finished `drain` seconds after the last scheduled start
    # is stopped and counted as an error (the server fell that far behind).
    gevent.joinall(greenlets, timeout=max(0.0, start + warmup + seconds + drain
                                         - time.perf_counter()))
    unfinished = [(g, due) for g, due in zip(greenlets, dues, strict=True) if not g.ready()]
    gevent.killall([g for g, _ in unfinished], block=True, timeout=5)
    for _, due in unfinished:
        if run.measure_from <= due < run.stop_at:
            run.errors[f"unfinished {drain:g}s after the schedule ended"] += 1
    for conn in idle:
        conn.close()
    return run, lags


def add_load_arguments(parser):
    """Add the options of the post load (bench/stack_ceiling.py runs the same one)."""
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers (%(default)s)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="closed-loop clients (%(default)s)")
    parser.add_argument("--rate", type=float, default=500,
                        help="open-loop posts per second (%(default)s)")
    parser.add_argument("--seconds", type=float, default=15,
                        help="measured seconds per run (%(default)s)")
    parser.add_argument("--warmup", type=float, default=2,
                        help="uncounted warm-up seconds (%(default)s)")
    parser.add_argument("--conversations", type=int, default=200,
                        help="fresh conversations per run, posts spread over them (%(default)s)")
    parser.add_argument("--max-connections", type=int, default=256,
                        help="open-loop posts in flight at most (%(default)s)")
    parser.add_argument("--drain", type=float, default=5,
                        help="open loop: seconds after the schedule ends before unfinished "
                             "posts are stopped and counted as errors (%(default)s)")
    parser.add_argument("--modes", default="closed,open", help="closed, open or both")
    lc.add_common_arguments(parser)
