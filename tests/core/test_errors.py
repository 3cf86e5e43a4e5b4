"""What should be a 4xx is one, with a page in the person's language and no traceback."""
import re
import socket
import threading
from pathlib import Path

import pytest
import requests

from app.core.validators import ID_MAX
from models import Conversation, db
from tests.inbox.staff import Staff, customer_journey, soup
from tests.receivers import wait_for

TOO_LARGE = {"body": "x" * 70_000}  # over MAX_CONTENT_LENGTH (64 KB)
TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}
HUGE_IDS = (ID_MAX + 1, 2**63, 10**30)
INT_ARGUMENT = re.compile(r"<int:\w+>")
ANY_ARGUMENT = re.compile(r"<any\((\w+)[^)]*\):\w+>")


# An access log line (gunicorn's): the only kind a refused request may add to the server's log.
ACCESS_LINE = re.compile(r'^\S+ - - \[[^]]+\] "[A-Z]+ \S+ HTTP/1\.1" \d{3} ')


def tracebacks(caplog):
    """Tracebacks logged by this thread, which ran the request: the outbox sweep has its own."""
    return [r.getMessage() for r in caplog.records
            if r.exc_info and r.thread == threading.get_ident()]


def test_a_customer_post_over_the_limit_gets_the_413_page_in_their_language(client, demo,
                                                                             caplog):
    token = customer_journey(client, "Daha fazla havlu alabilir miyim?")
    # Started in Turkish: its pages stay Turkish whatever the browser says.
    Conversation.by_token(token).language = "tr"
    db.session.commit()
    response = client.post(f"/c/{token}", data=TOO_LARGE, headers={"Accept-Language": "en"})
    assert response.status_code == 413
    assert "Mesaj çok uzun" in response.text and '<html lang="tr">' in response.text
    assert not tracebacks(caplog)


def test_a_staff_post_over_the_limit_gets_the_413_page(app, demo, caplog):
    agent = Staff(app, "agent@demo.example")
    response = agent.client.post("/inbox/c/1/reply", data=TOO_LARGE, headers=TURKISH)
    assert response.status_code == 413 and "Mesaj çok uzun" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert not tracebacks(caplog)


def id_urls(app, number):
    """(method, url) of every rule with an <int:…> id, each id set to `number`."""
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = ANY_ARGUMENT.sub(r"\1", INT_ARGUMENT.sub(str(number), rule.rule))
        yield ("GET" if "GET" in rule.methods else "POST"), url


def test_an_id_no_row_can_have_is_404_on_every_route(app, demo, caplog):
    admin = Staff(app, "admin@demo.example")
    # The largest id a row can have is an ordinary miss; the bound is not too tight.
    assert admin.get(f"/inbox/c/{ID_MAX}").status_code == 404
    for number in HUGE_IDS:
        urls = list(id_urls(app, number))
        assert len(urls) > 40  # every staff route with an id, admin and inbox
        for method, url in urls:
            data = {"csrf_token": admin.token} if method == "POST" else None
            response = admin.client.open(url, method=method, data=data)
            assert response.status_code == 404, (method, url, response.status_code)
        assert "Page not found" in response.text
    assert not tracebacks(caplog)


def test_an_after_no_message_can_have_is_ignored_like_a_word(client, demo, caplog):
    token = customer_journey(client, "Could I have more towels?")
    fragment = {"HX-Request": "true"}
    everything = client.get(f"/c/{token}/messages?after=0", headers=fragment)
    for after in (str(ID_MAX + 1), str(2**63), "9" * 5000, "-1", "soon"):
        response = client.get(f"/c/{token}/messages", query_string={"after": after},
                              headers=fragment)
        assert response.status_code == 200 and response.text == everything.text, after
    assert "Could I have more towels?" in everything.text
    assert not tracebacks(caplog)


@pytest.mark.parametrize("url", ["http://[::1", "https://crm.example:99999/kulak"])
def test_a_webhook_url_urlsplit_refuses_is_a_form_error(app, demo, caplog, url):
    manager = Staff(app, "manager@demo.example")
    response = manager.client.post("/admin/webhooks", data={
        "csrf_token": manager.token, "url": url, "events": ["message.created"]})
    assert response.status_code == 422
    errors = soup(response).get_text(" ", strip=True)
    assert "Please enter a full http:// or https:// address" in errors
    assert not tracebacks(caplog)


def server_log(server):
    return Path(server.env["KULAK_INSTANCE"]) / "server.log"


def logged_during(server, request, marker):
    """Send `request()`; return its answer and what the server logged meanwhile."""
    log = server_log(server)
    start = log.stat().st_size
    response = request()
    # The access log line is written after the answer: wait for it rather than race it.
    wait_for(lambda: marker in log.read_bytes()[start:].decode(errors="replace"))
    return response, log.read_bytes()[start:].decode(errors="replace")


def assert_one_access_line(logged, marker):
    """The request left one access log line, and the log nothing but access lines."""
    lines = logged.strip().splitlines()
    assert "Traceback" not in logged and all(ACCESS_LINE.match(line) for line in lines), logged
    assert len([line for line in lines if marker in line]) == 1, logged


def test_gunicorn_answers_a_post_over_the_limit_with_the_413_page(live_server):
    response, logged = logged_during(live_server, lambda: requests.post(
        live_server.url + "/b/demo/room-412", data=TOO_LARGE, headers=TURKISH, timeout=10),
        '"POST /b/demo/room-412')
    assert response.status_code == 413, response.text[:300]
    assert "Mesaj çok uzun" in response.text
    assert_one_access_line(logged, '"POST /b/demo/room-412')


def handshake(server, path, version):
    """Send a WebSocket handshake with Sec-WebSocket-Version `version`; return the raw answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall((
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: {version}\r\nAccept-Language: tr\r\n\r\n").encode())
        answer = b""
        while b"</html>" not in answer and (chunk := connection.recv(65536)):
            answer += chunk
    return answer.decode(errors="replace")


@pytest.mark.parametrize("path", ["/c/no-such-token/ws", "/inbox/ws"])
def test_gunicorn_answers_a_bad_websocket_version_with_400(live_server, path):
    answer, logged = logged_during(live_server, lambda: handshake(live_server, path, "8"),
                                   f'"GET {path}')
    status, _, rest = answer.partition("\r\n")
    assert status.startswith("HTTP/1.1 400 "), answer[:300]
    assert "Sec-WebSocket-Version: 13" in rest and "Bir sorun oluştu" in rest
    assert_one_access_line(logged, f'"GET {path}')
