"""Staff pages are never cached, /metrics is private, https deployments send HSTS."""
from app.config import Config
from tests.inbox.staff import Staff, conversation

HSTS = "max-age=31536000"
TOKEN = "scraper-secret"


def test_every_staff_page_and_fragment_is_no_store(app, client, demo):
    assert client.get("/inbox/login").headers["Cache-Control"] == "no-store"
    assert client.get("/inbox/").headers["Cache-Control"] == "no-store"  # the redirect too
    admin = Staff(app, "admin@demo.example")
    convo = conversation(demo)
    fragment = {"HX-Request": "true"}
    for url, headers in (("/inbox/", {}), ("/inbox/", fragment), (f"/inbox/c/{convo.id}", {}),
                         (f"/inbox/c/{convo.id}", fragment), ("/admin/", {}),
                         ("/admin/webhooks", {}), ("/admin/no-such-page", {})):
        response = admin.get(url, headers=headers)
        assert response.status_code in (200, 404), url
        assert response.headers["Cache-Control"] == "no-store", url


def test_metrics_are_off_without_a_token(client):
    assert client.application.config["METRICS_TOKEN"] is None
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404 and "kulak_http_requests_total" not in response.text


def test_metrics_answer_only_the_bearer_token(client, monkeypatch):
    monkeypatch.setitem(client.application.config, "METRICS_TOKEN", TOKEN)
    for authorization in (None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                          "Bearer café"):
        headers = {"Authorization": authorization} if authorization else {}
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, authorization
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "kulak_http_requests_total" not in response.text
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and "kulak_http_requests_total" in response.text


def test_the_metrics_token_comes_from_the_environment(tmp_path):
    assert Config({"KULAK_INSTANCE": str(tmp_path)}).METRICS_TOKEN is None
    config = Config({"KULAK_INSTANCE": str(tmp_path), "KULAK_METRICS_TOKEN": TOKEN})
    assert config.METRICS_TOKEN == TOKEN


def test_an_https_public_url_sends_hsts_on_every_response(client, demo, monkeypatch):
    for url in ("/b/demo/room-412", "/healthz", "/no-such-page", "/inbox/login"):
        assert "Strict-Transport-Security" not in client.get(url).headers, url
    monkeypatch.setitem(client.application.config, "PUBLIC_URL", "https://feedback.example")
    for url in ("/b/demo/room-412", "/healthz", "/no-such-page", "/inbox/login"):
        assert client.get(url).headers["Strict-Transport-Security"] == HSTS, url
