"""The gunicorn command line shared by `kulak serve` and the Procfile, and gunicorn's hooks.

gunicorn loads this file as its configuration (`--config <this file>`), by path: as a file it
imports nothing of the app into the arbiter, whose workers must import psycopg only after
gevent has patched. Only the hook names below (child_exit, on_exit) are gunicorn settings.
"""
import os
import shutil
import sys
import tempfile

# gunicorn's own ceiling, above its default 4094: an API query with a few long filters still
# reaches the app, which answers with a problem document a client can read, not gunicorn's page.
REQUEST_LINE_MAX = 8190
# prometheus-client's own switch to multiprocess mode, read by it when it is imported.
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def fresh_metrics_dir(parent=None):
    """Make an empty folder for one server start's metric files (in parent, else the temp dir).

    Fresh per start: files left by an earlier start would add its counts to this one's; unique,
    so several instances sharing a parent never write to each other's files.
    """
    if parent:
        os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix="kulak-metrics-", dir=parent)


def gunicorn_argv(bind, workers, metrics_dir=None):
    """Return gunicorn's arguments: gevent workers that each build the app after patching."""
    argv = ["--config", os.path.abspath(__file__),
            "--worker-class", "gevent", "--worker-connections", "10000",
            "--workers", str(workers), "--no-control-socket", "--bind", bind,
            "--limit-request-line", str(REQUEST_LINE_MAX),
            "--access-logfile", "-", "--graceful-timeout", "5"]
    if metrics_dir:
        # Set by gunicorn in its own environment before any worker imports prometheus_client.
        argv += ["--env", f"{METRICS_ENV}={metrics_dir}"]
    return [*argv, "app:create_app()"]


def exec_gunicorn(bind, workers, metrics_dir=None):
    """Replace this process with gunicorn.

    A fresh interpreter matters: gevent must patch before psycopg is imported, or psycopg picks
    its blocking wait and one slow query stalls every request of that worker.
    """
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn",
                              *gunicorn_argv(bind, workers, metrics_dir)])


def child_exit(server, worker):
    """gunicorn hook, in the arbiter: a dead worker's live gauges leave the sums."""
    directory = server.cfg.env.get(METRICS_ENV)
    if directory:
        # Its counters and histograms stay: what it served was served.
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid, directory)


def on_exit(server):
    """gunicorn hook, in the arbiter: remove the metric files of this start."""
    directory = server.cfg.env.get(METRICS_ENV)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
