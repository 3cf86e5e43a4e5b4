"""The customer journey on a real server, by a browser with JavaScript off.

The browser below only does what the HTML offers: it reads forms (method, action, inputs),
picks radio options by their visible label, follows links by their text, loads the
stylesheets and the <noscript> frame, and never runs or needs a script.
"""
import re
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
import sqlalchemy
from bs4 import BeautifulSoup

URL_ATTRIBUTES = ("src", "href", "action", "formaction", "poster", "data", "srcset",
                  "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "ws-connect")
TOKEN_PATH = re.compile(r"^/c/([A-Za-z0-9_-]{32})$")


def page_problems(html, url):
    """Return what breaks the JavaScript-free and same-origin contract on a page."""
    soup = BeautifulSoup(html, "html.parser")
    origin = urlparse(url)[:2]
    problems = []
    for script in soup.find_all("script"):
        src = script.get("src")
        if not src:
            problems.append(f"inline script: {script}"[:200])
        elif not urlparse(urljoin(url, src)).path.startswith("/static/vendor/"):
            problems.append(f"script outside /static/vendor/: {src}")
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            if name.startswith("on"):
                problems.append(f"inline event handler {name} on <{tag.name}>")
            if name in URL_ATTRIBUTES:
                for target in str(value).split(","):
                    target = urljoin(url, target.strip().split(" ")[0])
                    # A WebSocket to the same host is the same origin (ws:// for http://).
                    target = re.sub(r"^ws(s?)://", r"http\1://", target)
                    # data: URLs (e.g. the empty favicon) load nothing from anywhere.
                    if not target.startswith("data:") and urlparse(target)[:2] != origin:
                        problems.append(f"<{tag.name} {name}={value!r}> leaves the origin")
    return problems


def texts(soup, selector):
    return [element.get_text(" ", strip=True) for element in soup.select(selector)]


class Form:
    """A <form> filled in the way a person does it: by labels and visible option names."""

    def __init__(self, browser, element):
        self.browser, self.element = browser, element
        self.method = (element.get("method") or "get").upper()
        # No action means the document's own URL, query string included.
        self.action = urljoin(browser.url, element.get("action") or "")
        self.values = {}
        for control in element.find_all(["input", "textarea", "select"]):
            name, kind = control.get("name"), (control.get("type") or "text").lower()
            if not name or control.has_attr("disabled"):
                continue
            if control.name == "textarea":
                self.values[name] = control.get_text()
            elif control.name == "select":  # the selected option, else the first
                chosen = control.find("option", selected=True) or control.find("option")
                if chosen is not None:
                    self.values[name] = chosen.get("value", chosen.get_text())
            elif kind in ("radio", "checkbox"):
                if control.has_attr("checked"):
                    self.values[name] = control.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.values[name] = control.get("value", "")

    def fill(self, label_text, value):
        label = self.element.find(
            "label", string=lambda s: s is not None and s.strip() == label_text)
        assert label is not None, f"no field labelled {label_text!r}"
        control = self.element.find(id=label["for"])
        self.values[control["name"]] = value
        return self

    def select(self, label_text, option_text):
        """Pick an option of the <select> labelled `label_text` by its visible text."""
        label = self.element.find(
            "label", string=lambda s: s is not None and s.strip() == label_text)
        assert label is not None, f"no field labelled {label_text!r}"
        control = self.element.find(id=label["for"])
        option = control.find("option", string=lambda s: s is not None
                              and s.strip() == option_text)
        assert option is not None, f"{label_text!r} offers no option {option_text!r}"
        self.values[control["name"]] = option.get("value", option.get_text())
        return self

    def choose(self, question, option_text):
        legend = next((le for le in self.element.find_all("legend")
                       if question in le.get_text()), None)
        assert legend is not None, f"no question {question!r}"
        for label in legend.parent.find_all("label"):
            if label.get_text(strip=True) == option_text:
                radio = label.find("input")
                self.values[radio["name"]] = radio["value"]
                return self
        raise AssertionError(f"{question!r} offers no option {option_text!r}")

    def submit(self):
        return self.browser.send(self.method, self.action, dict(self.values))


class Browser:
    """requests with the habits of a browser that has JavaScript turned off."""

    # A customer's browser must never be given a cookie; staff sign in with one.
    cookies_allowed = False

    def __init__(self, base_url, language="en"):
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = language
        self.url, self.soup, self.response = base_url, None, None
        self.responses, self.loaded_assets, self.last_submission = [], set(), None

    def fetch(self, method, url, data=None):
        """Request `url`, following redirects; check every hop; return (response, soup)."""
        response = self.http.request(method, urljoin(self.url, url), timeout=15,
                                     **{"params" if method == "GET" else "data": data})
        for hop in [*response.history, response]:
            self.responses.append(hop)
            assert self.cookies_allowed or "Set-Cookie" not in hop.headers, (
                f"{hop.url} sets {hop.headers.get('Set-Cookie')}")
            assert not hop.is_redirect or hop.status_code == 303, (hop.url, hop.status_code)
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            return response, None
        assert page_problems(response.text, response.url) == []
        soup = BeautifulSoup(response.text, "html.parser")
        # Load the stylesheets (noscript ones included) and scripts the page names, once.
        for element in soup.select('link[rel~="stylesheet"][href], script[src]'):
            asset_url = urljoin(response.url, element.get("href") or element.get("src"))
            if asset_url not in self.loaded_assets:
                self.loaded_assets.add(asset_url)
                asset, _ = self.fetch("GET", asset_url)
                assert asset.status_code == 200, asset_url
        return response, soup

    def send(self, method, url, data=None):
        """Load a page in the window, as a link or a form does."""
        self.last_submission = (method, url, data)
        self.response, self.soup = self.fetch(method, url, data)
        self.url = self.response.url
        return self.response

    def open(self, url):
        return self.send("GET", url)

    def resubmit(self):
        """Send the last form again, as a retry after a timeout or a double click does."""
        return self.send(*self.last_submission)

    def follow(self, link_text):
        link = next((a for a in self.soup.find_all("a", href=True)
                     if link_text in a.get_text()), None)
        assert link is not None, f"no link {link_text!r} on {self.url}"
        return self.open(link["href"])

    def form(self, selector="form"):
        element = self.soup.select_one(selector)
        assert element is not None, f"no {selector} on {self.url}"
        return Form(self, element)

    def noscript_frame(self):
        """Load the <noscript> iframe; return its soup after checking it refreshes itself."""
        frame = self.soup.select_one("noscript iframe[src]")
        assert frame is not None, f"no <noscript><iframe> on {self.url}"
        response, soup = self.fetch("GET", frame["src"])
        assert response.status_code == 200
        refresh = soup.find("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)})
        assert refresh is not None and 0 < int(refresh["content"].split(";")[0]) <= 30
        return soup

    def switch_language(self, code):
        return self.open(self.soup.select_one(f'footer a[hreflang="{code}"]')["href"])

    def messages(self, soup=None):
        return texts(soup or self.soup, "#messages li.message p.body")

    def finish(self):
        """Whatever happened, the customer's browser holds no cookie."""
        assert not self.http.cookies, list(self.http.cookies)
        assert not any("Set-Cookie" in r.headers for r in self.responses)


class CustomerClient:
    """Flask's test client, checking every response: no cookie, no inline script, nothing
    from another origin."""

    def __init__(self, app):
        self.client, self.responses = app.test_client(), []

    def open(self, *args, **kwargs):
        response = self.client.open(*args, **kwargs)
        self.responses.append(response)
        assert "Set-Cookie" not in response.headers, response.headers["Set-Cookie"]
        if response.mimetype == "text/html":
            assert page_problems(response.text, "http://localhost" + response.request.path) == []
        return response

    def get(self, *args, **kwargs):
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args, **kwargs):
        return self.open(*args, method="POST", **kwargs)


@pytest.fixture(scope="module")
def database(live_server):
    engine = sqlalchemy.create_engine(live_server.env["DATABASE_URL"])
    yield engine
    engine.dispose()


def rows(engine, sql, **params):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sqlalchemy.text(sql), params)]


def scalar(engine, sql, **params):
    return rows(engine, sql, **params)[0][0]


def conversation_token(browser):
    match = TOKEN_PATH.match(urlparse(browser.url).path)
    assert match, f"not on a conversation page: {browser.url}"
    return match.group(1)


COMMENT = "The air conditioning makes a loud noise all night."
FOLLOW_UP = "Also, the window does not close."


def test_scan_survey_help_and_chat_without_javascript(live_server, database):
    browser = Browser(live_server.url)
    assert browser.open("/b/demo/room-412").status_code == 200
    assert texts(browser.soup, "header p") == ["Demo Hotel", "Room 412"]
    survey = browser.form().choose("How is your stay?", "2").choose("Was your room clean?", "No")
    response = survey.submit()
    assert [hop.status_code for hop in response.history] + [response.status_code] == [303, 200]
    assert urlparse(browser.url).path == "/b/demo/room-412/help"
    assert parse_qs(urlparse(browser.url).query)["r"]
    assert texts(browser.soup, "h1") == ["How can we help?"]

    browser.form().choose("What is it about?", "Room and facilities") \
        .fill("Tell us what you need", COMMENT).submit()
    token = conversation_token(browser)
    assert browser.response.headers["Cache-Control"] == "no-store"
    first, acknowledgement = browser.messages()
    assert first == COMMENT
    # The demo routes to its front desk, and nobody of it is signed in: the customer is told.
    assert "Nobody from Front desk is online right now" in acknowledgement
    assert browser.messages(browser.noscript_frame()) == [COMMENT, acknowledgement]

    browser.form("#message-form").fill("Write a message", FOLLOW_UP).submit()
    assert conversation_token(browser) == token
    assert browser.messages() == [COMMENT, acknowledgement, FOLLOW_UP]
    assert browser.messages(browser.noscript_frame()) == [COMMENT, acknowledgement, FOLLOW_UP]
    # The same form sent again (same client id) must not add the message twice.
    browser.resubmit()
    assert conversation_token(browser) == token
    assert browser.messages().count(FOLLOW_UP) == 1
    assert scalar(database, "SELECT count(*) FROM message m JOIN conversation c "
                  "ON m.conversation_id = c.id WHERE c.token = :t AND m.body = :b",
                  t=token, b=FOLLOW_UP) == 1

    answers = rows(database, """
        SELECT q.kind, a.number FROM answer a
        JOIN question q ON a.question_id = q.id
        JOIN survey_response r ON a.response_id = r.id
        JOIN conversation c ON r.conversation_id = c.id
        WHERE c.token = :t ORDER BY q.position""", t=token)
    assert answers == [("rating", 2), ("yes_no", 0)]
    assert scalar(database, "SELECT cat.slug FROM conversation c JOIN category cat "
                  "ON c.category_id = cat.id WHERE c.token = :t", t=token) == "facilities"
    browser.finish()


def test_skipping_the_survey_stores_no_answers(live_server, database):
    responses_before = scalar(database, "SELECT count(*) FROM survey_response")
    browser = Browser(live_server.url)
    browser.open("/b/demo/table-7")
    assert texts(browser.soup, "header .place") == ["Table 7"]
    browser.follow("Skip")
    assert urlparse(browser.url).path == "/b/demo/table-7/help"
    assert "r" not in (form := browser.form()).values
    form.fill("Tell us what you need", "Could we get some water, please?").submit()
    token = conversation_token(browser)
    assert browser.messages()[0] == "Could we get some water, please?"
    assert scalar(database, "SELECT count(*) FROM survey_response") == responses_before
    assert scalar(database, "SELECT tp.slug FROM conversation c JOIN touchpoint tp "
                  "ON c.touchpoint_id = tp.id WHERE c.token = :t", t=token) == "table-7"
    browser.finish()


def test_language_links_switch_the_page_language(live_server):
    browser = Browser(live_server.url)
    browser.open("/b/demo/room-412")
    assert browser.soup.html["lang"] == "en"
    browser.switch_language("tr")
    assert browser.soup.html["lang"] == "tr"
    # The question text comes from the brand's survey, in Turkish.
    assert "Konaklamanız nasıl geçiyor?" in texts(browser.soup, "legend")
    assert browser.form().values["lang"] == "tr"
    browser.form().submit()  # every question skipped: the language travels on
    assert urlparse(browser.url).path == "/b/demo/room-412/help"
    assert browser.soup.html["lang"] == "tr"
    browser.switch_language("en")
    assert browser.soup.html["lang"] == "en"
    assert texts(browser.soup, "h1") == ["How can we help?"]
    browser.switch_language("tr")
    browser.form().fill(browser.soup.select_one('label[for="body"]').get_text(strip=True),
                        "Oda çok sıcak").submit()
    conversation_token(browser)
    # The conversation keeps the language it was started in, without a cookie or ?lang=.
    browser.open(urlparse(browser.url).path)
    assert browser.soup.html["lang"] == "tr"
    assert "ekibinden kimse çevrimiçi değil" in browser.messages()[1]
    browser.finish()


def test_the_page_checker_itself_catches_scripts_handlers_and_foreign_urls():
    page = ('<script>alert(1)</script><script src="/static/app.js"></script>'
            '<img src="x" onerror="alert(2)"><a href="https://evil.example/">x</a>'
            '<form action="//evil.example/post"></form><a href="javascript:alert(3)">y</a>'
            '<script src="/static/vendor/htmx.min.js"></script><a href="/c/x?lang=tr">ok</a>'
            '<link rel="icon" href="data:,"><script src="data:,alert(4)"></script>')
    assert len(page_problems(page, "http://127.0.0.1:8000/b/demo")) == 7
