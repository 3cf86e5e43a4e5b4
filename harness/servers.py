"""Kulak's processes as the tests and benchmarks run them, each in a process group of its own.

`kulak demo` then `kulak serve` (gunicorn, gevent) on a free port of 127.0.0.1, `kulak worker`,
and the skeleton app of bench/stack_ceiling_app.py: each logs to a file, is ready once it
answers, and stops group and all, so no gunicorn worker or job fork outlives a run.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# One shipped model for every server a benchmark starts, built once, not per instance folder;
# the tests name their own in KULAK_MODEL_DIR before they start anything.
MODEL_DIR = str(Path(tempfile.gettempdir()) / "kulak-bench-models")


def free_port():
    """Return a TCP port of 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kulak_command(*args):
    """Return the command line of `kulak <args>` with this interpreter."""
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def kulak_env(folder, public_url=None, overrides=None):
    """Return os.environ with the instance folder, the public URL and `overrides` (None unsets)."""
    env = dict(os.environ)
    env.setdefault("KULAK_MODEL_DIR", MODEL_DIR)
    # The receivers listen on 127.0.0.1, which the egress policy refuses unless admitted.
    env.setdefault("KULAK_EGRESS_ALLOW", "127.0.0.1")
    env["KULAK_INSTANCE"] = str(folder)
    if public_url:
        env["KULAK_PUBLIC_URL"] = public_url
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def stop_group(process, grace=10):
    """SIGTERM a process group, then SIGKILL whatever is left of it after `grace` seconds."""
    # SIGKILL even after the leader exited cleanly: a job's fork or a worker may outlive it.
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break  # the group is gone
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    process.poll()  # reap a leader whose group had ended already


def stop_all(groups):
    """Stop several process groups at once (SIGTERM to all first), then wait for each."""
    for group in groups:
        group.signal(signal.SIGTERM)
    for group in groups:
        group.stop()


class ProcessGroup:
    """A command in a process group of its own, its output appended to a log file."""

    name = "process"

    def __init__(self, command, env, log_path):
        self.command, self.env, self.log_path = command, env, Path(log_path)
        self.process, self._log = None, None

    def start(self):
        return self.spawn()

    def spawn(self):
        """Start the command (from the repository root, so nothing in bench/ shadows a package)."""
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        return self

    def launch(self, ready, timeout, workers=0):
        """Start, then wait until ready() and `workers` children; stop the group if not."""
        self.spawn()
        try:
            self._wait_ready(ready, timeout)
            if workers:
                self.wait_for_workers(workers)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, ready, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: "
                                   f"{self.log_tail()}")
            try:
                if ready():
                    return
            except (OSError, requests.RequestException, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s: {self.log_tail()}")

    def worker_pids(self):
        """Return the pids of the leader's children (gunicorn's workers), from /proc."""
        pid = self.process.pid
        try:
            return sorted(int(p) for p in
                          Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        except OSError:
            return []

    def wait_for_workers(self, count=1, timeout=30):
        """Wait until the leader has `count` children; return their pids."""
        deadline = time.monotonic() + timeout
        while len(pids := self.worker_pids()) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} has workers {pids}, wanted {count}")
            time.sleep(0.1)
        return pids

    def log_text(self):
        """Return everything the process has logged so far."""
        try:
            return self.log_path.read_bytes().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, size=3000):
        return self.log_text()[-size:]

    def signal(self, sig):
        """Send `sig` to the whole group, if it still runs."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self):
        """End the whole process group and close the log."""
        if self.process is not None:
            stop_group(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None


class KulakServer(ProcessGroup):
    """`kulak demo` (unless demo=False) then `kulak serve` on a free port of 127.0.0.1."""

    # `folder` is the instance folder and holds server.log; without one a temporary folder is
    # made, and removed on stop. `env` overrides os.environ (None unsets a name); with
    # `workers` None, `kulak serve` chooses. demo=False: a second server on a seeded database.
    name = "kulak serve"

    def __init__(self, folder=None, env=None, workers=None, demo=True, progress=None):
        self.own_folder = folder is None
        self.folder = Path(folder or tempfile.mkdtemp(prefix="kulak-harness-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.demo = workers, demo
        self.progress = progress or (lambda *parts: None)
        workers_args = ("--workers", str(workers)) if workers else ()
        super().__init__(kulak_command("serve", "--host", "127.0.0.1", "--port", str(self.port),
                                       *workers_args),
                         kulak_env(self.folder, self.url, env), self.folder / "server.log")

    def kulak(self, *args, timeout=180):
        """Run `kulak <args>` with this server's environment; return its standard output."""
        done = subprocess.run(kulak_command(*args), env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"kulak {' '.join(args)} failed ({done.returncode}): "
                               f"{done.stderr[-2000:]}")
        return done.stdout

    def start(self, timeout=60):
        """Seed the demo, serve, and wait for /healthz (and Redis, when configured) and workers."""
        if self.demo:
            self.progress("kulak demo in", self.folder)
            self.kulak("demo")
        self.progress(f"kulak serve on {self.url} with {self.workers or 'default'} worker(s)")
        return self.launch(self.healthy, timeout, self.workers or 0)

    def healthy(self):
        answer = requests.get(self.url + "/healthz", timeout=5)
        return answer.status_code == 200 and answer.json()["redis"] in ("ok", "not configured")

    def stop(self):
        super().stop()
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


class KulakWorker(ProcessGroup):
    """`kulak worker` (RQ, its scheduler and outbox sweep) logging to `<folder>/<log_name>`."""

    name = "kulak worker"

    def __init__(self, folder, env=None, log_name="worker.log"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        super().__init__(kulak_command("worker"), kulak_env(folder, None, env),
                         Path(folder) / log_name)


class SkeletonServer(ProcessGroup):
    """gunicorn serving bench/stack_ceiling_app.py on a free port, as Kulak is served."""

    # gevent workers, 10,000 connections each; the app reads its settings from `env`.

    name = "skeleton server"

    def __init__(self, workers, env):
        self.port, self.workers = free_port(), workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="kulak-skeleton-"))
        super().__init__(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gevent",
             "--worker-connections", "10000", "--workers", str(workers), "--no-control-socket",
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "/dev/null",
             "--chdir", str(ROOT / "bench"), "stack_ceiling_app:app"],
            {**os.environ, **env}, self.folder / "skeleton.log")

    def start(self, timeout=30):
        # Any answer will do: the app has no page at "/", only its post.
        return self.launch(lambda: requests.get(self.url + "/", timeout=1).status_code > 0,
                           timeout, self.workers)

    def stop(self):
        super().stop()
        shutil.rmtree(self.folder, ignore_errors=True)
