"""Compression, content-hashed static URLs, and /metrics summed over gunicorn's workers."""
import gzip
import hashlib
import os
import re
import shutil
import signal
import socket
import uuid
from pathlib import Path

import brotli
import pytest
import requests
from flask import request
from flask_migrate import upgrade
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.core import assets
from app.demo import seed_demo
from harness.servers import KulakServer
from models import db
from tests.conftest import DEMO_PASSWORD, EGRESS_ALLOW, MODEL_DIR, RequestPerContextClient

STATIC_DIR = Path(__file__).resolve().parents[2] / "app" / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
BODY = "The air conditioning in room 412 is broken and it is very hot"
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]*)"')
METRICS_TOKEN = "scraper-secret"


def open_conversation(client):
    """Open a conversation through the help form; return its token."""
    answer = client.post("/b/demo/room-412/help", data={
        "body": BODY, "category": "", "client_id": uuid.uuid4().hex, "lang": "en"})
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["Location"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def vendor(tmp_path_factory):
    """The pinned htmx files, fetched once (from npm's cache) for this module's instances."""
    folder = tmp_path_factory.mktemp("vendor")
    assets.install(folder)
    return folder


@pytest.fixture(scope="module")
def served(tmp_path_factory, vendor):
    """An app of its own (SQLite, demo brand, htmx installed), a client and a conversation."""
    instance = tmp_path_factory.mktemp("serving")
    shutil.copytree(vendor, instance / assets.VENDOR_SUBDIR)
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'kulak.db'}"},
                     environ={"KULAK_INSTANCE": str(instance), "KULAK_MODEL_DIR": MODEL_DIR,
                              "KULAK_EGRESS_ALLOW": EGRESS_ALLOW})
    app.test_client_class = RequestPerContextClient

    @app.get("/_test/etag")
    def tagged():  # a view with its own strong ETag, as a page answering 304 has
        response = app.response_class("<p>same</p>" * 200, mimetype="text/html")
        response.set_etag("page-v1")
        return response.make_conditional(request)

    with app.app_context():
        upgrade()
        seed_demo(DEMO_PASSWORD)
        client = app.test_client()
        yield app, client, open_conversation(client)
        db.engine.dispose()


@pytest.fixture
def same_ids(monkeypatch):
    """Make the client ids a page hands out the same on every render, so bodies compare."""
    fixed = uuid.UUID(int=412)
    monkeypatch.setattr(uuid, "uuid4", lambda: fixed)


def decoded(response):
    encoding = response.headers.get("Content-Encoding")
    return {"br": brotli.decompress, "gzip": gzip.decompress}[encoding](response.data)


@pytest.mark.parametrize("path", ["/b/demo/room-412", "/c/{token}", "/static/kulak.css",
                                  "/static/vendor/htmx.min.js", "/api/v1/openapi.json"])
def test_br_and_gzip_decode_to_the_identity_bytes(served, same_ids, path):
    app, client, token = served
    url = path.format(token=token)
    identity = client.get(url)
    assert identity.status_code == 200 and "Content-Encoding" not in identity.headers
    assert "Accept-Encoding" in identity.headers["Vary"]
    assert len(identity.data) > 500
    for accepted, expected in (("br, gzip", "br"), ("gzip, deflate", "gzip"),
                               ("gzip;q=1, br;q=0.5", "gzip"), ("*", "br")):
        answer = client.get(url, headers={"Accept-Encoding": accepted})
        assert answer.status_code == 200, accepted
        assert answer.headers["Content-Encoding"] == expected, accepted
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert len(answer.data) < len(identity.data)
        assert int(answer.headers["Content-Length"]) == len(answer.data)
        assert decoded(answer) == identity.data, accepted
    for refused in ("identity", "deflate", "br;q=0, gzip;q=0"):
        answer = client.get(url, headers={"Accept-Encoding": refused})
        assert "Content-Encoding" not in answer.headers and answer.data == identity.data


def test_tiny_bodies_and_304s_are_not_compressed(served):
    app, client, token = served
    healthz = client.get("/healthz", headers={"Accept-Encoding": "br, gzip"})
    assert healthz.status_code == 200 and len(healthz.data) < 500
    assert "Content-Encoding" not in healthz.headers
    tiny = client.get("/static/noscript.css", headers={"Accept-Encoding": "br"})
    assert tiny.status_code == 200 and "Content-Encoding" not in tiny.headers
    assert tiny.data == (STATIC_DIR / "noscript.css").read_bytes()
    css = client.get("/static/kulak.css", headers={"Accept-Encoding": "br"})
    again = client.get("/static/kulak.css", headers={"Accept-Encoding": "br",
                                                      "If-None-Match": css.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert "Content-Encoding" not in again.headers and "Accept-Encoding" in again.headers["Vary"]
    # Another encoding is another representation: its validator does not match.
    other = client.get("/static/kulak.css", headers={"Accept-Encoding": "gzip",
                                                      "If-None-Match": css.headers["ETag"]})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "gzip"


def test_a_views_etag_still_answers_304_once_compressed(served):
    app, client, token = served
    plain = client.get("/_test/etag")
    assert plain.headers["ETag"] == '"page-v1"' and "Content-Encoding" not in plain.headers
    compressed = client.get("/_test/etag", headers={"Accept-Encoding": "br"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert compressed.headers["ETag"] == 'W/"page-v1"'  # not Flask-Compress's "page-v1:br"
    for sent in (compressed.headers["ETag"], plain.headers["ETag"]):
        again = client.get("/_test/etag", headers={"Accept-Encoding": "br",
                                                    "If-None-Match": sent})
        assert again.status_code == 304 and again.data == b"", sent


def file_hash(app, path):
    """The first 12 hex digits of the sha256 of the file a /static/ URL names, read afresh."""
    name = path.split("?")[0].removeprefix("/static/")
    if name.startswith("vendor/"):
        file = assets.instance_vendor_dir(app) / name.removeprefix("vendor/")
    else:
        file = STATIC_DIR / name
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def test_every_static_url_of_a_page_carries_the_files_current_hash(served):
    app, client, token = served
    seen = set()
    for page in ("/b/demo/room-412", "/b/demo/room-412/help", "/embed/demo", f"/c/{token}",
                 f"/c/{token}/frame", "/inbox/login"):
        answer = client.get(page)
        assert answer.status_code == 200, page
        for url in STATIC_URL.findall(answer.text):
            assert re.fullmatch(r"/static/[\w./-]+\?v=[0-9a-f]{12}", url), (page, url)
            assert url.endswith("?v=" + file_hash(app, url)), (page, url)
            seen.add(url.split("?")[0])
    assert {"/static/kulak.css", "/static/noscript.css", "/static/staff.css",
            "/static/vendor/htmx.min.js", "/static/vendor/ws.min.js"} <= seen


@pytest.mark.parametrize("name", ["kulak.css", "vendor/htmx.min.js"])
def test_the_current_hash_is_immutable_and_an_old_or_no_hash_gets_the_file_briefly(served,
                                                                                   name):
    app, client, token = served
    current = client.get(f"/static/{name}?v={file_hash(app, '/static/' + name)}")
    assert current.status_code == 200 and current.headers["Cache-Control"] == IMMUTABLE
    for stale in (f"/static/{name}?v=0123456789ab", f"/static/{name}", f"/static/{name}?v="):
        answer = client.get(stale)
        assert answer.status_code == 200, stale
        assert answer.data == current.data, stale
        cache = answer.headers["Cache-Control"]
        assert "immutable" not in cache and re.fullmatch(r"public, max-age=300", cache), stale


def test_unknown_static_files_are_404(served):
    app, client, token = served
    for url in ("/static/nothing.css", "/static/../config.py", "/static/vendor/other.js",
                "/static/vendor/../../secret_key", "/static/"):
        assert client.get(url).status_code == 404, url


# ---------------------------------------------------------------- a real server, two workers


def two_worker_server(folder):
    """`kulak serve --workers 2` on SQLite, with a metrics token and its own metrics folder."""
    return KulakServer(folder, {
        "DATABASE_URL": f"sqlite:///{folder / 'kulak.db'}", "REDIS_URL": None,
        "PROMETHEUS_MULTIPROC_DIR": None, "KULAK_DEMO_PASSWORD": DEMO_PASSWORD,
        "KULAK_RATE_LIMITS": "off", "KULAK_METRICS_TOKEN": METRICS_TOKEN,
        "KULAK_METRICS_DIR": str(folder / "metrics")}, workers=2)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, vendor):
    folder = tmp_path_factory.mktemp("two-workers")
    shutil.copytree(vendor, folder / assets.VENDOR_SUBDIR)  # `kulak demo` then fetches nothing
    server = two_worker_server(folder).start()
    yield server
    server.stop()
    # gunicorn's on_exit hook removes the metric files of the start that ended.
    assert not [*(folder / "metrics").glob("kulak-metrics-*")]


def get(server, path, **headers):
    """GET on a new connection: the worker that accepts it is the one that serves it."""
    return requests.get(server.url + path, timeout=30, headers={"Connection": "close", **headers})


def paused(pid):
    """Stop a worker: connections made meanwhile can only be accepted by the other one."""
    os.kill(pid, signal.SIGSTOP)


def resumed(pid):
    os.kill(pid, signal.SIGCONT)


def totals(server):
    """Sum kulak_http_requests_total and the latency histogram's _count, outside /metrics."""
    answer = get(server, "/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert answer.status_code == 200, answer.text[:300]
    sums = {"requests": 0.0, "latency_count": 0.0}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.labels.get("endpoint") == "core.metrics":
                continue
            if sample.name == "kulak_http_requests_total":
                sums["requests"] += sample.value
            elif sample.name == "kulak_http_request_seconds_count":
                sums["latency_count"] += sample.value
    return sums


@pytest.mark.server
def test_metrics_sum_what_every_worker_served_whichever_answers(two_workers):
    first, second = two_workers.worker_pids()
    metric_files = [*(two_workers.folder / "metrics").glob("kulak-metrics-*")]
    assert len(metric_files) == 1, "kulak serve makes one fresh folder per start"
    paused(first)
    try:
        assert get(two_workers, "/healthz").status_code == 200  # waits until `second` serves
        before = totals(two_workers)
        for _ in range(5):
            assert get(two_workers, "/b/demo/room-412").status_code == 200
    finally:
        resumed(first)
    paused(second)
    try:
        for _ in range(7):
            assert get(two_workers, "/b/demo/room-412/help").status_code == 200
        by_first = totals(two_workers)
    finally:
        resumed(second)
    paused(first)
    try:
        by_second = totals(two_workers)
    finally:
        resumed(first)
    # Each worker writes its own file; /metrics answered by either sums both.
    written = {path.name for path in metric_files[0].iterdir()}
    assert {f"counter_{first}.db", f"counter_{second}.db"} <= written, written
    assert by_first == by_second
    assert by_first["requests"] - before["requests"] == 12
    assert by_first["latency_count"] - before["latency_count"] == 12


@pytest.mark.server
def test_the_websocket_handshake_is_not_compressed(two_workers):
    answer = requests.post(two_workers.url + "/b/demo/room-412/help", allow_redirects=False,
                           timeout=10, data={"body": BODY, "lang": "en"})
    token = answer.headers["Location"].rsplit("/", 1)[1]
    with socket.create_connection(("127.0.0.1", two_workers.port), timeout=10) as sock:
        sock.sendall((f"GET /c/{token}/ws HTTP/1.1\r\nHost: 127.0.0.1:{two_workers.port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nAccept-Encoding: br, gzip\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
    status, *lines = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    assert status.startswith("HTTP/1.1 101"), head
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert "content-encoding" not in headers
