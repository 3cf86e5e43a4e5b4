"""Liveness and Prometheus metrics."""
import hmac
import time

import redis
from flask import abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from app.core import bp, outage
from app.extensions import db, limiter
from models import Brand

# Counters and histograms only: under `kulak serve` every worker writes its own, and /metrics
# sums them (a gauge would need a multiprocess_mode saying how to combine the workers').
REQUESTS = Counter("kulak_http_requests_total", "HTTP requests", ["endpoint", "method", "status"])
LATENCY = Histogram("kulak_http_request_seconds", "HTTP request latency", ["endpoint"])


@bp.before_app_request
def start_timer():
    g.request_started = time.perf_counter()


@bp.after_app_request
def count_request(response):
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(endpoint, request.method, response.status_code).inc()
    if "request_started" in g:
        LATENCY.labels(endpoint).observe(time.perf_counter() - g.request_started)
    return response


def _redis_status():
    url = current_app.config["REDIS_URL"]
    if not url:
        return "not configured"
    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except redis.RedisError:
        return "unavailable"


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Answer 200 when the database answers; report Redis when it is configured."""
    try:
        # A row, not "SELECT 1": SQLite answers that without opening its file, so a locked
        # or missing database would look healthy.
        db.session.execute(db.select(Brand.id).limit(1))
        database = "ok"  # and, after an outage, "Database answers again" is logged
    except Exception as error:  # any driver error means "not healthy", never a 500 page
        outage.went_down(error)
        database = "unavailable"
    body = {"status": "ok" if database == "ok" else "unavailable",
            "database": database, "redis": _redis_status()}
    return body, 200 if database == "ok" else 503


@bp.get("/metrics")
@limiter.exempt
def metrics():
    """Answer Prometheus when METRICS_TOKEN is set and sent as a bearer token; else 404 / 401."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    sent = request.headers.get("Authorization", "").encode()
    # Constant time: how long a wrong guess takes says nothing about how much of it was right.
    if not hmac.compare_digest(sent, f"Bearer {token}".encode()):
        return "", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    return generate_latest(_registry()), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _registry():
    """Return what to answer from: every worker's files under gunicorn, else this process."""
    directory = current_app.config["METRICS_MULTIPROC_DIR"]
    if not directory:
        return REGISTRY
    # Built per scrape, as prometheus-client advises: it reads the files as they are now.
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry
