"""The gunicorn command line shared by `kulak serve` and the Procfile."""
import os
import sys


def gunicorn_argv(bind, workers):
    """Return gunicorn's arguments: gevent workers that each build the app after patching."""
    return ["--worker-class", "gevent", "--worker-connections", "10000",
            "--workers", str(workers), "--no-control-socket", "--bind", bind,
            "--access-logfile", "-", "--graceful-timeout", "5", "app:create_app()"]


def exec_gunicorn(bind, workers):
    """Replace this process with gunicorn.

    A fresh interpreter matters: gevent must patch before psycopg is imported, or psycopg picks
    its blocking wait and one slow query stalls every request of that worker.
    """
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *gunicorn_argv(bind, workers)])
