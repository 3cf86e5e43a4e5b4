"""A real Kulak server for the benchmarks: `kulak demo`, then `kulak serve` (gunicorn, gevent) in
its own process group on a free port of 127.0.0.1, with a temporary instance folder; it waits
until the survey page answers, keeps the server's log for error messages, and on stop ends the
whole process group and removes the temporary folder.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests
from cpu_accounting import proc_stats

SURVEY_PATH = "/b/demo/room-412"


def free_port():
    """Return a TCP port of 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_conversation(session, base, body, timeout):
    """Open a conversation through the real help form and return its token."""
    response = session.post(
        base + SURVEY_PATH + "/help",
        data={"body": body, "category": "", "client_id": uuid.uuid4().hex, "lang": "en"},
        allow_redirects=False,
        timeout=timeout,
    )
    location = response.headers.get("Location", "")
    match = re.search(r"/c/([^/?#]+)", location)
    if response.status_code != 303 or not match:
        raise RuntimeError(
            f"POST /help gave {response.status_code} Location={location!r}: {response.text[:300]}"
        )
    return match.group(1)


def rss_kib(pid):
    """Return a process's resident set size in KiB (VmRSS of /proc/<pid>/status), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(ordered, fraction):
    """Return the nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def log_errors(text, limit=10):
    """Return the tracebacks and error lines of a server log (not the access log)."""
    wanted = [
        ln[:300]
        for ln in text.splitlines()
        if re.search(r"Traceback|Error|Exception|Warning|\[CRITICAL\]|\[ERROR\]|WORKER TIMEOUT", ln)
    ]
    return list(dict.fromkeys(wanted))[:limit]


def csrf_token(html):
    """Return the CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if not match:
        raise RuntimeError(f"no csrf_token in the page: {html[:300]}")
    return match.group(1)


def login_staff(session, base, email, password, timeout):
    """Sign a member of staff in through the real login form (CSRF included)."""
    page = session.get(base + "/inbox/login", timeout=timeout)
    response = session.post(
        base + "/inbox/login",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        allow_redirects=False,
        timeout=timeout,
    )
    if response.status_code != 303:
        raise RuntimeError(f"staff login gave {response.status_code}: {response.text[:300]}")
    return session


class KulakServer:
    """`kulak demo` then `kulak serve` in its own process group, on a temporary instance."""

    def __init__(self, workers, tmp_prefix, env=None, log=None, demo=True):
        """Pick a free port and a temporary instance folder; env overrides os.environ (None unsets)."""
        # demo=False skips `kulak demo`: for a second server on a database another one seeded.
        self.port, self.workers, self.demo = free_port(), workers, demo
        self.base = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.mkdtemp(prefix=tmp_prefix)
        self.log_path = os.path.join(self.tmp, "server.log")
        self.env = dict(os.environ)
        # One shipped model for every server a benchmark starts, built once, not per instance.
        self.env.setdefault("KULAK_MODEL_DIR", os.path.join(tempfile.gettempdir(),
                                                            "kulak-bench-models"))
        # The benchmarks' receivers listen on 127.0.0.1, which the egress policy refuses
        # unless the operator admits it.
        self.env.setdefault("KULAK_EGRESS_ALLOW", "127.0.0.1")
        self.env.update(
            {"KULAK_INSTANCE": os.path.join(self.tmp, "instance"), "KULAK_PUBLIC_URL": self.base}
        )
        for name, value in (env or {}).items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value
        self.log = log or (lambda *parts: None)
        self.proc = None
        self._log = None

    @staticmethod
    def kulak():
        """Return the path of the `kulak` command, or exit if it is not on PATH."""
        return shutil.which("kulak") or sys.exit("the `kulak` command is not on PATH")

    def start(self, timeout=90):
        """Run `kulak demo` (unless demo=False), start `kulak serve`, wait for the survey page."""
        if self.demo:
            self.log("kulak demo in", self.env["KULAK_INSTANCE"])
            demo = subprocess.run(
                [self.kulak(), "demo"], env=self.env, capture_output=True, text=True, timeout=180
            )
            if demo.returncode != 0:
                raise RuntimeError(
                    f"kulak demo failed ({demo.returncode}): {demo.stderr[-2000:]}"
                )
        self.log(f"kulak serve on {self.base} with {self.workers} worker(s)")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.kulak(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + ["--workers", str(self.workers)],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"kulak serve exited with {self.proc.returncode}: {self.log_tail()}"
                )
            try:
                if requests.get(self.base + SURVEY_PATH, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"kulak serve not ready after {timeout}s: {self.log_tail()}")

    def worker_pids(self):
        """Return the pids of gunicorn's workers: the children of the arbiter (Linux /proc)."""
        if self.proc is None:
            return []
        return sorted(pid for pid, _, fields in proc_stats()
                      if int(fields[1]) == self.proc.pid)  # [1] ppid

    def wait_for_workers(self, timeout=30):
        """Wait until gunicorn runs all its workers; return their pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) >= self.workers:
                return pids
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn has workers {self.worker_pids()}, wanted {self.workers}")

    def log_text(self):
        """Return everything the server has logged so far ("" if there is no log)."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, size=3000):
        """Return the last size characters of the server's log."""
        return self.log_text()[-size:]

    def stop(self):
        """Stop the whole process group (SIGTERM, then SIGKILL) and remove the temporary folder."""
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                    self.proc.wait(timeout=15)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    pass
            try:  # gunicorn's workers share the group; make sure none outlives the arbiter.
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._log:
            self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
