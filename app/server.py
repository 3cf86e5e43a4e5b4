"""The gunicorn command line shared by `kulak serve` and the Procfile."""
import os
import sys

# gunicorn's own ceiling, above its default 4094: an API query with a few long filters still
# reaches the app, which answers with a problem document a client can read, not gunicorn's page.
REQUEST_LINE_MAX = 8190


def gunicorn_argv(bind, workers):
    """Return gunicorn's arguments: gevent workers that each build the app after patching."""
    return ["--worker-class", "gevent", "--worker-connections", "10000",
            "--workers", str(workers), "--no-control-socket", "--bind", bind,
            "--limit-request-line", str(REQUEST_LINE_MAX),
            "--access-logfile", "-", "--graceful-timeout", "5", "app:create_app()"]


def exec_gunicorn(bind, workers):
    """Replace this process with gunicorn.

    A fresh interpreter matters: gevent must patch before psycopg is imported, or psycopg picks
    its blocking wait and one slow query stalls every request of that worker.
    """
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *gunicorn_argv(bind, workers)])
