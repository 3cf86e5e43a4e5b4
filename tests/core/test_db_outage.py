"""A database outage answers 503 with the customer's form kept, and is logged once, not per
request. PostgreSQL is cut at a TCP proxy; SQLite is "down" while another process holds its
write lock (a backup, a long migration), which is how an SQLite deployment stops answering."""
import sqlite3
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import exc

from app import create_app, jobs
from app.core import outage as outage_module
from app.demo import seed_demo
from models import Brand, Conversation, Message, db
from tests.conftest import BACKENDS, DEMO_PASSWORD, MODEL_DIR, RequestPerContextClient
from tests.core.test_errors import tracebacks
from tests.inbox.staff import Staff, customer_journey, form_values, soup
from tests.proxy import TcpProxy

TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}
HTMX = {"HX-Request": "true"}
DOWN, BACK = "Database unavailable", "Database answers again"


class Outage:
    """An app of its own whose database a test can cut and restore."""

    def __init__(self, backend, tmp_path, postgres_schema):
        self.backend, self.proxy, self.lock = backend, None, None
        if backend == "postgresql":
            self.proxy = TcpProxy("127.0.0.1", 5432).start()
            url = postgres_schema().replace(":5432/", f":{self.proxy.port}/")
        else:
            self.path = tmp_path / "outage.db"
            # A short busy timeout: a locked database fails in 0.1 s, not after 5 s of waiting.
            url = f"sqlite:///{self.path}?timeout=0.1"
        self.app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                               "RATELIMIT_ENABLED": False, "PUBLIC_URL": "http://kulak.test"},
                              environ={"KULAK_INSTANCE": str(tmp_path),
                                       "KULAK_MODEL_DIR": MODEL_DIR})
        self.app.test_client_class = RequestPerContextClient
        self.client = self.app.test_client()

    def cut(self):
        db.session.remove()  # the test's own session holds no connection (nor SQLite lock)
        if self.proxy:
            self.proxy.cut()
        else:
            self.lock = sqlite3.connect(self.path, isolation_level=None)
            self.lock.execute("BEGIN EXCLUSIVE")

    def restore(self):
        if self.proxy:
            self.proxy.restore()
        elif self.lock:
            self.lock.execute("ROLLBACK")
            self.lock.close()
            self.lock = None
        db.session.remove()


@pytest.fixture(params=BACKENDS)
def outage(request, tmp_path, postgres_schema):
    down = Outage(request.param, tmp_path, postgres_schema)
    with down.app.app_context():
        upgrade()
        seed_demo(DEMO_PASSWORD)
        yield down
        down.restore()
        jobs.cancel_timers()  # an escalation planned here must not fire once the proxy is gone
        db.engine.dispose()
    if down.proxy:
        down.proxy.stop()


def lines(caplog, text):
    return [r for r in caplog.records if r.getMessage().startswith(text)]


def assert_quiet(caplog, down=1, back=0):
    """No traceback in this thread, and one line when the outage began (and ended)."""
    assert not tracebacks(caplog)
    assert len(lines(caplog, DOWN)) == down and len(lines(caplog, BACK)) == back
    assert all("SELECT" not in r.getMessage() for r in lines(caplog, DOWN))


def stored(body):
    db.session.remove()
    return db.session.scalars(db.select(Message).filter_by(body=body)).all()


def test_a_first_message_during_an_outage_comes_back_in_its_form(outage, caplog):
    client, body = outage.client, "Odamın kliması çalışmıyor <lütfen>"
    page = client.get("/b/demo/help?lang=tr")
    data = form_values(soup(page).select_one("form")) | {"body": body, "name": "Ayşe"}
    outage.cut()
    for _attempt in range(3):
        answer = client.post("/b/demo/help?lang=tr", data=data)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert answer.headers["Cache-Control"] == "no-store"
        form = soup(answer).select_one("form")
        assert form.get("action") is None  # posts again to where it came from
        assert form.select_one("textarea").get_text() == body
        assert form_values(form) == data  # same client id: a retry cannot start two
        assert "<html lang=\"tr\">" in answer.text and "Henüz gönderilmedi" in answer.text
    assert_quiet(caplog)

    outage.restore()
    sent = client.post("/b/demo/help?lang=tr", data=form_values(form))
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/c/")
    again = client.post("/b/demo/help?lang=tr", data=form_values(form))
    assert again.headers["Location"] == sent.headers["Location"]
    assert len(stored(body)) == 1
    assert_quiet(caplog, back=1)


def test_a_first_message_without_a_language_field_follows_the_browser(outage, caplog):
    outage.cut()
    answer = outage.client.post("/b/demo/help", data={"body": "Havlu lütfen"}, headers=TURKISH)
    assert answer.status_code == 503 and '<html lang="tr">' in answer.text
    form = soup(answer).select_one("form")
    assert form.select_one("textarea").get_text() == "Havlu lütfen"
    # The form had no client id: it gets one now, so that its own retries arrive once.
    assert len(form.select_one("input[name=client_id]")["value"]) == 32
    assert_quiet(caplog)


def test_the_answer_shows_inside_the_brands_iframe(outage, caplog):
    db.session.execute(db.update(Brand).values(embed_origins=["https://shop.example"]))
    db.session.commit()
    assert outage.client.get("/embed/demo/help").status_code == 200
    outage.cut()
    answer = outage.client.post("/embed/demo/help", data={"body": "Is it in stock?"})
    # The brand cannot be read now: its iframe's origin is remembered from before.
    assert answer.status_code == 503
    assert "https://shop.example" in answer.headers["Content-Security-Policy"]
    assert soup(answer).body["class"] == ["embed"]
    assert_quiet(caplog)


def turkish_conversation(client):
    token = customer_journey(client, "Daha fazla havlu alabilir miyim?")
    Conversation.by_token(token).language = "tr"
    db.session.commit()
    return token, form_values(soup(client.get(f"/c/{token}")).select_one("#message-form"))


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_a_message_during_an_outage_comes_back_to_send_again(outage, caplog, headers):
    client, body = outage.client, "Hâlâ bekliyorum"
    token, data = turkish_conversation(client)
    assert data["lang"] == "tr"
    data["body"] = body
    outage.cut()
    for _attempt in range(2):
        # The browser says English: the conversation's language rides in the form.
        answer = client.post(f"/c/{token}", data=data, headers={**headers, "Accept-Language": "en"})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        form = soup(answer).select_one("#message-form")
        assert form["action"] == f"/c/{token}" and form["hx-post"] == f"/c/{token}"
        assert form_values(form) == data and "Gönder" in answer.text
        assert form.select_one("[role=alert]").get_text()
        # htmx swaps the form in place (503 swaps, see _htmx_head.html); no page around it.
        assert ("<html" in answer.text) is not bool(headers)
        assert "HX-Reswap" not in answer.headers
    assert_quiet(caplog)

    outage.restore()
    for _attempt in range(2):
        sent = client.post(f"/c/{token}", data=form_values(form), headers=headers)
        assert sent.status_code == (200 if headers else 303)
    assert len(stored(body)) == 1
    assert_quiet(caplog, back=1)


def test_pages_and_polls_during_an_outage_say_so_and_swap_nothing(outage, caplog):
    client = outage.client
    token, _data = turkish_conversation(client)
    agent = Staff(outage.app, "agent@demo.example")
    outage.cut()
    page = client.get(f"/c/{token}", headers=TURKISH)
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert '<html lang="tr">' in page.text
    poll = client.get(f"/c/{token}/messages?after=0", headers=HTMX)
    assert poll.status_code == 503 and poll.headers["HX-Reswap"] == "none"
    frame = client.get(f"/c/{token}/frame")
    # The no-script message list goes on reloading itself, and is back when the database is.
    assert frame.status_code == 503 and 'http-equiv="refresh" content="5"' in frame.text
    inbox = agent.get("/inbox/", headers=TURKISH)
    assert inbox.status_code == 503 and '<html lang="tr">' in inbox.text
    assert agent.get("/inbox/", headers=HTMX).headers["HX-Reswap"] == "none"
    assert_quiet(caplog)
    outage.restore()
    assert client.get(f"/c/{token}").status_code == 200
    assert agent.get("/inbox/").status_code == 200
    assert_quiet(caplog, back=1)


def test_healthz_says_the_database_is_down_then_back(outage, caplog):
    outage.cut()
    for _attempt in range(3):
        down = outage.client.get("/healthz")
        assert down.status_code == 503
        assert down.json == {"status": "unavailable", "database": "unavailable",
                             "redis": "not configured"}
    assert_quiet(caplog)
    outage.restore()
    assert outage.client.get("/healthz").json["database"] == "ok"
    assert_quiet(caplog, back=1)


def test_an_idle_connection_found_dead_at_checkout_is_the_same_outage(outage, caplog,
                                                                      monkeypatch):
    assert outage.client.get("/healthz").status_code == 200
    monkeypatch.setattr("models.pool.IDLE_BEFORE_PING_SECONDS", 0)  # every checkout pings
    outage.cut()
    answer = outage.client.post("/b/demo/help", data={"body": "Hello?"})
    assert answer.status_code == 503 and "Hello?" in answer.text
    assert_quiet(caplog)


def test_many_customers_at_once_make_one_log_line(outage, caplog):
    outage.cut()
    answers = []

    def post(number):
        answers.append(outage.client.post("/b/demo/help", data={"body": f"Soru {number}"}))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [503] * 8
    assert not [r for r in caplog.records if r.exc_info]
    assert len(lines(caplog, DOWN)) == 1


def test_a_bug_in_the_database_layer_is_still_a_500_with_its_traceback(outage, monkeypatch,
                                                                        caplog):
    def duplicate(*_args, **_kwargs):
        raise exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr("app.widget.service.start_conversation", duplicate)
    outage.app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = outage.client.post("/b/demo/help", data={"body": "Hello"})
    assert answer.status_code == 500 and "Retry-After" not in answer.headers
    assert tracebacks(caplog) and not lines(caplog, DOWN)


def test_only_connection_level_errors_count_as_an_outage():
    cause = Exception("server closed the connection unexpectedly\nmore")
    assert outage_module.is_outage(exc.OperationalError("SELECT secret", {}, cause))
    assert outage_module.is_outage(exc.InterfaceError("SELECT", {}, cause))
    assert outage_module.is_outage(exc.TimeoutError("QueuePool limit reached"))
    invalidated = exc.DBAPIError("SELECT", {}, cause, connection_invalidated=True)
    assert outage_module.is_outage(invalidated)
    assert not outage_module.is_outage(exc.IntegrityError("INSERT", {}, cause))
    assert not outage_module.is_outage(exc.ProgrammingError("SELECT", {}, cause))
    summary = outage_module.summary(exc.OperationalError("SELECT secret", {"b": "typed"}, cause))
    assert summary == "Exception: server closed the connection unexpectedly"
