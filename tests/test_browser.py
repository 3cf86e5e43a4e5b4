"""Real Chromium against a real `kulak serve`: the customer journey with JavaScript on and off,
validation errors swapped in place, and the script-free embed behind CSP frame-ancestors."""
import http.server
import re
import threading
from urllib.parse import quote, urlsplit

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from .conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, free_port

TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)

MESSAGE = sa.table("message", sa.column("conversation_id"), sa.column("author_kind"),
                   sa.column("body"), sa.column("created_at", sa.DateTime()),
                   sa.column("client_id"), sa.column("staff_id"))
CONVERSATION = sa.table("conversation", sa.column("id"), sa.column("token"))
BRAND = sa.table("brand", sa.column("slug"), sa.column("embed_origins", sa.JSON()))


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Watched:
    """A page in its own context, with its console, page errors and requests recorded."""

    def __init__(self, browser, js=True):
        self.context = browser.new_context(java_script_enabled=js)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.console, self.page_errors, self.requests = [], [], []
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.console.append(m))
        self.page.on("pageerror", lambda e: self.page_errors.append(e))
        self.page.on("request", lambda r: self.requests.append(r))
        self.sockets, self.frames = [], []
        self.page.on("websocket", self._record_socket)

    def _record_socket(self, socket):
        self.sockets.append(socket.url)
        socket.on("framereceived", lambda payload: self.frames.append(payload))

    def console_lines(self):
        """(type, text, url) of each console error or warning."""
        return [(m.type, m.text, m.location.get("url")) for m in self.console]


@pytest.fixture
def database(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    yield engine
    engine.dispose()


def staff_reply(server, engine, token, body):
    """Reply as the demo agent through the real inbox: log in, open the conversation, send."""
    with engine.connect() as connection:
        conversation_id = connection.scalar(
            sa.select(CONVERSATION.c.id).where(CONVERSATION.c.token == token))
    agent = requests.Session()
    login = agent.get(f"{server.url}/inbox/login")
    agent.post(f"{server.url}/inbox/login", data={
        "csrf_token": csrf_token(login.text), "email": "agent@demo.example",
        "password": DEMO_PASSWORD})
    page = agent.get(f"{server.url}/inbox/c/{conversation_id}")
    assert page.status_code == 200, page.text[:300]
    sent = agent.post(f"{server.url}/inbox/c/{conversation_id}/reply",
                      data={"csrf_token": csrf_token(page.text), "body": body})
    assert sent.status_code == 200 and body in sent.text


def csrf_token(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def set_embed_origins(engine, origins):
    with engine.begin() as connection:
        connection.execute(BRAND.update().where(BRAND.c.slug == "demo")
                           .values(embed_origins=origins))


def option(page, text, group=None):
    """The <label> of a visually hidden radio, found by its visible text."""
    scope = page.get_by_role("group", name=group) if group else page
    return scope.locator("label").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def sign_in(page, server_url, email, next_path):
    """Log in on the login page as a person does, landing on `next_path`."""
    page.goto(f"{server_url}/inbox/login?next={quote(next_path, safe='/')}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server_url}{next_path}")


def journey(page, server_url, first_message):
    """QR link for room 412 -> survey -> "How can we help?" -> conversation; return its token."""
    page.goto(f"{server_url}/b/demo/room-412")
    expect(page.get_by_role("heading", name="A few quick questions")).to_be_visible()
    option(page, "2", "How is your stay?").click()
    option(page, "No", "Was your room clean?").click()
    expect(page.get_by_role("radio", name="2", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="No", exact=True)).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    option(page, "Cleanliness").click()
    page.locator("#body").fill(first_message)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/c/[A-Za-z0-9_-]{32}(\?.*)?$"))
    # The demo routes to the front desk: who answers depends on who of it is online.
    expect(page.locator("body")).to_contain_text(re.compile(
        r"from Front desk (will answer within 5 minutes|is online right now)"))
    return re.search(r"/c/([A-Za-z0-9_-]{32})", page.url).group(1)


def test_journey_with_javascript_swaps_in_place_and_polls_staff_replies(
        live_server, watch, database):
    watched = watch()
    page = watched.page
    token = journey(page, live_server.url, "The bathroom floor is dirty")
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.version").startswith("2.0")
    messages, body = page.locator("#messages"), page.locator("#body")
    expect(messages).to_contain_text("The bathroom floor is dirty")

    page.evaluate("window.__kulak_marker = 1")
    body.fill("Could someone bring fresh towels?")
    page.get_by_role("button", name="Send").click()
    expect(messages).to_contain_text("Could someone bring fresh towels?")
    expect(body).to_have_value("")
    assert page.evaluate("window.__kulak_marker") == 1, "the send reloaded the page"
    conversation_url = f"{live_server.url}/c/{token}"
    posts = [r for r in watched.requests if r.method == "POST" and r.url == conversation_url]
    assert len(posts) == 1
    assert posts[0].all_headers().get("hx-request") == "true"
    assert posts[0].response().status == 200

    body.fill("half-written")
    staff_reply(live_server, database, token, "On our way with towels, sorry!")
    expect(messages).to_contain_text("On our way with towels, sorry!", timeout=8_000)
    expect(body).to_have_value("half-written")
    expect(body).to_be_focused()
    assert page.evaluate("window.__kulak_marker") == 1, "the live update reloaded the page"
    assert watched.sockets == [conversation_url.replace("http://", "ws://") + "/ws?hello=1"]
    assert any("On our way with towels, sorry!" in str(frame) for frame in watched.frames)

    assert watched.console_lines() == []
    assert watched.page_errors == []
    assert {origin(r.url) for r in watched.requests} == {live_server.url}
    assert page.url == conversation_url


def test_journey_without_javascript_posts_forms_and_frame_refreshes(
        live_server, watch, database):
    watched = watch(js=False)
    page = watched.page
    token = journey(page, live_server.url, "No towels in the room")
    frame_element = page.locator("iframe.frame")
    frame = page.frame_locator("iframe.frame")
    expect(frame_element).to_be_visible()
    expect(page.locator("#messages")).to_be_hidden()
    expect(frame.locator("#messages")).to_contain_text("No towels in the room")

    page.locator("#body").fill("And the minibar is empty")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(rf"/c/{token}(\?lang=en)?$"))
    expect(frame.locator("#messages")).to_contain_text("And the minibar is empty")

    page.locator("#body").fill("half-written")
    staff_reply(live_server, database, token, "Housekeeping is coming to room 412")
    expect(frame.locator("#messages")).to_contain_text(
        "Housekeeping is coming to room 412", timeout=8_000)
    expect(page.locator("#body")).to_have_value("half-written")
    assert not any(urlsplit(r.url).path.endswith("/htmx.min.js") for r in watched.requests)
    assert watched.console_lines() == []
    assert {origin(r.url) for r in watched.requests} == {live_server.url}


def test_empty_message_is_refused_in_place_with_javascript(live_server, watch):
    watched = watch()
    page = watched.page
    token = journey(page, live_server.url, "The air conditioning rattles")
    conversation_url = f"{live_server.url}/c/{token}"
    page.evaluate("window.__kulak_marker = 1")
    body, send = page.locator("#body"), page.get_by_role("button", name="Send")

    def posts():
        return [r for r in watched.requests if r.method == "POST"]

    before = len(posts())
    send.click()  # empty: Chromium's own `required` check stops it before any request
    assert body.evaluate("e => e.validity.valueMissing") is True
    page.wait_for_timeout(500)
    assert len(posts()) == before

    body.fill("   ")  # passes `required`; the server strips it and answers 422
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        send.click()
    assert answer.value.status == 422
    assert answer.value.request.all_headers().get("hx-request") == "true"
    expect(page.locator("#body-error")).to_have_text("Please write a message before sending.")
    expect(body).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.__kulak_marker") == 1, "the 422 reloaded the page"

    body.fill("Sorry: the AC still rattles")  # the swapped-in form still works in place
    send.click()
    expect(page.locator("#messages")).to_contain_text("Sorry: the AC still rattles")
    expect(page.locator("#body-error")).to_have_count(0)
    assert page.evaluate("window.__kulak_marker") == 1

    # Chromium's network line for the 422 is the only thing logged: htmx logs nothing,
    # because responseHandling swaps 422 without flagging it as an error.
    assert watched.console_lines() == [("error", "Failed to load resource: the server responded "
                                        "with a status of 422 (UNPROCESSABLE ENTITY)",
                                        conversation_url)]
    assert watched.page_errors == []
    assert {origin(r.url) for r in watched.requests} == {live_server.url}


@pytest.fixture
def host_page(live_server):
    """Another origin (127.0.0.1, other port) whose page embeds the chat as the README says."""
    html = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
            '<link rel="icon" href="data:,"></head><body><h1>Our shop</h1>'
            '<details class="kulak-chat"><summary>Chat with us</summary>'
            f'<iframe src="{live_server.url}/embed/demo" loading="lazy" title="Chat" '
            'width="360" height="560"></iframe></details></body></html>').encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def open_chat(page, host_url):
    """Load the host page, check the closed launcher cost nothing, then open it."""
    requests = []
    page.on("request", lambda r: requests.append(r))
    page.goto(host_url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(1_000)
    assert [r.url for r in requests] == [f"{host_url}/"], "the closed launcher loaded the chat"
    page.get_by_text("Chat with us").click()


def test_embed_is_lazy_and_framed_only_by_allowed_origins(live_server, watch, database,
                                                          host_page):
    kulak = live_server.url
    watched = watch()
    page = watched.page
    failed = []
    page.on("requestfailed", lambda r: failed.append(r))
    with page.expect_event("console", lambda m: "frame-ancestors" in m.text):
        open_chat(page, host_page)
    blocked = [m.text for m in watched.console if m.type == "error"]
    assert blocked == [f"Framing '{kulak}/' violates the following Content Security Policy "
                       "directive: \"frame-ancestors 'self'\". The request has been blocked.\n"]
    assert [(r.url, r.failure) for r in failed] == [
        (f"{kulak}/embed/demo", "net::ERR_BLOCKED_BY_RESPONSE")]
    expect(page.frame_locator("iframe").get_by_text("Demo Hotel")).to_have_count(0)
    assert not any(f.url.startswith(kulak) for f in page.frames)

    try:
        set_embed_origins(database, [host_page])
        allowed = watch()
        open_chat(allowed.page, host_page)
        chat = allowed.page.frame_locator("iframe")
        expect(chat.get_by_text("Demo Hotel")).to_be_visible()
        expect(chat.get_by_role("heading", name="A few quick questions")).to_be_visible()
        assert any(f.url == f"{kulak}/embed/demo" for f in allowed.page.frames)
        assert allowed.console_lines() == [] and allowed.page_errors == []
        assert {origin(r.url) for r in allowed.requests} == {host_page, kulak}
    finally:
        set_embed_origins(database, [])


def test_first_customer_page_logs_no_console_error_at_all(live_server, chromium):
    # A browser of its own: Chromium remembers a failed favicon across contexts.
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        watched = Watched(browser)
        watched.page.goto(f"{live_server.url}/b/demo/room-412")
        for _ in range(30):
            if watched.console:
                break
            watched.page.wait_for_timeout(100)
        assert [(m.type, m.text, m.location.get("url")) for m in watched.console] == []
    finally:
        browser.close()
