"""Configuration from the environment, health, metrics and headers on every response."""
from flask import request

from app import create_app
from app.config import Config


def test_config_reads_only_the_given_environment(tmp_path):
    config = Config({"KULAK_INSTANCE": str(tmp_path),
                     "DATABASE_URL": "postgres://kulak@db.example/kulak",
                     "REDIS_URL": "redis://127.0.0.1:6379/3",
                     "KULAK_PUBLIC_URL": "https://feedback.example/"})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://kulak@db.example/kulak"
    assert config.REDIS_URL == config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/3"
    assert config.PUBLIC_URL == "https://feedback.example"
    assert config.SESSION_COOKIE_SECURE is True


def test_embedded_default_is_sqlite_in_the_instance_folder_with_a_kept_secret(tmp_path):
    first = Config({"KULAK_INSTANCE": str(tmp_path)})
    second = Config({"KULAK_INSTANCE": str(tmp_path)})
    assert first.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'kulak.db'}"
    assert first.REDIS_URL is None and first.RATELIMIT_STORAGE_URI == "memory://"
    assert len(first.SECRET_KEY) == 64 and first.SECRET_KEY == second.SECRET_KEY
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_healthz_reports_redis_when_configured(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    try:
        assert app.test_client().get("/healthz").json["redis"] == "ok"
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
        assert app.test_client().get("/healthz").json["redis"] == "unavailable"
    finally:
        app.config["REDIS_URL"] = None


def test_metrics_count_requests_by_endpoint(client, demo, monkeypatch):
    monkeypatch.setitem(client.application.config, "METRICS_TOKEN", "scraper-secret")
    client.get("/b/demo/room-412")
    body = client.get("/metrics", headers={"Authorization": "Bearer scraper-secret"}).text
    assert 'kulak_http_requests_total{endpoint="widget.entry",method="GET",status="200"}' in body
    assert "kulak_http_request_seconds_bucket" in body


def test_every_response_carries_the_security_headers(client, demo):
    for url in ("/b/demo/room-412", "/healthz", "/no-such-page", "/qr/demo"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_trusted_proxy_supplies_the_customer_address_for_rate_limits(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                     environ={"KULAK_INSTANCE": str(tmp_path), "KULAK_PROXY_COUNT": "1"})
    app.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"},
                                     environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.text == "203.0.113.7"
