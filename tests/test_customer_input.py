"""What customers type: validation, limits, escaping, retries, errors, headers, rate limits."""
import secrets

import pytest
from bs4 import BeautifulSoup
from flask_migrate import upgrade

from app import create_app
from app.demo import seed_demo
from app.extensions import limiter
from models import Conversation, Message, Question, Survey, db

from .test_journey_nojs import CustomerClient, texts

HELP = "/b/demo/room-412/help"
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


@pytest.fixture
def client(app):
    return CustomerClient(app)


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def errors(response):
    return texts(soup(response), "p.error")


def client_id():
    return secrets.token_hex(8)


def start(client, body="The shower has no hot water.", **fields):
    response = client.post(HELP, data={"body": body, "client_id": client_id(), **fields})
    assert response.status_code == 303, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def survey_fields(demo):
    return {q.kind: q.field_name for q in Survey.for_touchpoint(demo).questions}


@pytest.mark.parametrize("body", ["", "  \n\t  "])
def test_an_empty_comment_is_refused_and_the_rest_is_kept(client, demo, body):
    response = client.post(HELP, data={"body": body, "name": "Ayla", "contact": "ayla@x.example",
                                       "category": "cleanliness", "client_id": client_id()})
    assert response.status_code == 422
    assert errors(response) == ["Please write a message before sending."]
    page = soup(response)
    assert page.select_one("#name")["value"] == "Ayla"
    assert page.select_one("#contact")["value"] == "ayla@x.example"
    assert page.select_one('input[value="cleanliness"]').has_attr("checked")
    assert db.session.scalar(db.select(db.func.count(Conversation.id))) == 0


def test_a_comment_over_4000_characters_is_refused_and_kept_word_for_word(client, demo):
    text = ("Klima çalışmıyor & <b>oda</b> çok sıcak.\n" * 120)[:4001]
    text = text[:-1] + "!"
    assert len(text) == 4001 and text == text.strip()
    response = client.post(HELP, data={"body": text, "client_id": client_id()})
    assert response.status_code == 422
    [error] = errors(response)
    assert "4000" in error and "4001" in error
    assert soup(response).select_one("textarea#body").get_text() == text


def test_a_comment_of_exactly_4000_characters_is_accepted(client, demo):
    text = "a" * 3999 + "!"
    token = start(client, body=text)
    assert Conversation.by_token(token).messages[0].body == text


def test_a_message_the_browser_let_through_is_accepted_with_crlf_line_breaks(client, demo):
    typed = "\n".join(["x" * 99] * 40)  # 3,999 characters by the browser's count (maxlength)
    response = client.post(HELP, data={"body": typed.replace("\n", "\r\n"),
                                       "client_id": client_id()})
    assert response.status_code == 303, errors(response)


def test_name_and_contact_mistakes_are_explained(client, demo):
    response = client.post(HELP, data={"body": "Hello", "name": "N" * 121,
                                       "contact": "not a contact", "client_id": client_id()})
    assert response.status_code == 422
    assert errors(response) == ["Please use at most 120 characters.",
                                "Please enter an email address or a phone number."]
    page = soup(response)
    assert page.select_one("details.contact").has_attr("open")
    assert page.select_one("textarea#body").get_text() == "Hello"
    for contact in ("guest@example.com", "+90 532 123 45 67"):
        assert start(client, body="Hello", name="N" * 120, contact=contact)


def test_a_survey_answer_outside_the_choices_is_refused(client, demo):
    fields = survey_fields(demo)
    response = client.post("/b/demo/room-412", data={fields["rating"]: "9",
                                                     fields["yes_no"]: "no"})
    assert response.status_code == 422
    assert errors(response) == ["Please choose one of the options."]
    assert soup(response).select_one(f'input[name="{fields["yes_no"]}"][value="no"]') \
        .has_attr("checked")


def not_found_body(response):
    """The 404 page, with the echoed path (in the language links) taken out."""
    assert response.status_code == 404
    return response.text.replace(response.request.path, "PATH")


def test_unknown_places_and_tokens_reveal_nothing(client, demo):
    token = start(client)
    assert client.get(f"/c/{token}").status_code == 200
    random_token = not_found_body(client.get(f"/c/{secrets.token_urlsafe(24)}"))
    assert "Page not found" in random_token
    for url in (f"/c/{token[:-1]}", f"/c/{token}x", f"/c/{token[:-1]}/frame",
                f"/c/{token[:-1]}/messages"):
        assert not_found_body(client.get(url)) == random_token
    for url in (f"/c/{token[:-1]}", f"/c/{token}x"):
        assert not_found_body(client.post(url, data={"body": "hi"})) == random_token
    for url in ("/b/nobody", "/b/demo/room-999", "/embed/nobody/web", "/b/demo/room-999/help",
                "/qr/nobody"):
        page = soup(client.get(url))
        assert texts(page, "h1") == ["Page not found"], url
        assert "room-999" not in page.main.get_text() and "nobody" not in page.main.get_text()


def test_the_404_page_speaks_the_customer_language(client, demo):
    turkish = {"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"}
    random_token = client.get(f"/c/{secrets.token_urlsafe(24)}", headers=turkish)
    assert soup(random_token).html["lang"] == "tr"
    # The Turkish catalogue is written separately; the page must at least be served as Turkish
    # and be the same page whatever the unknown address.
    for url in ("/b/nobody", "/b/demo/room-999", f"/c/{start(client)[:-1]}"):
        response = client.get(url, headers=turkish)
        assert soup(response).html["lang"] == "tr"
        assert not_found_body(response) == not_found_body(random_token)


def test_a_retried_first_message_opens_one_conversation(client, demo):
    data = {"body": "Is breakfast included?", "client_id": client_id(), "category": "other"}
    first, second = client.post(HELP, data=data), client.post(HELP, data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Conversation.id))) == 1


def test_a_retried_message_is_stored_once(client, demo):
    token = start(client)
    data = {"body": "Still no hot water.", "client_id": client_id()}
    for _ in range(2):
        response = client.post(f"/c/{token}", data=data)
        assert response.status_code == 303
        assert response.headers["Location"].startswith(f"/c/{token}")
    page = client.get(f"/c/{token}")
    assert texts(soup(page), "#messages p.body").count("Still no hot water.") == 1
    assert db.session.scalar(db.select(db.func.count(Message.id))
                             .filter_by(body="Still no hot water.")) == 1


def assert_escaped(response):
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_markup_typed_anywhere_is_shown_as_text(client, demo):
    survey = Survey.for_touchpoint(demo)
    survey.questions.append(Question(position=9, kind="text", prompt={"en": "Anything else?"}))
    db.session.commit()
    fields = {q.kind: q.field_name for q in survey.questions}
    refused = client.post("/b/demo/room-412", data={fields["rating"]: "9", fields["text"]: PAYLOAD})
    assert refused.status_code == 422
    assert_escaped(refused)
    assert soup(refused).select_one(f'input[name="{fields["text"]}"]')["value"] == PAYLOAD

    refused = client.post(HELP, data={"body": PAYLOAD, "name": PAYLOAD, "contact": PAYLOAD})
    assert refused.status_code == 422
    assert_escaped(refused)
    page = soup(refused)
    assert page.select_one("#name")["value"] == page.select_one("#contact")["value"] == PAYLOAD
    assert page.select_one("textarea#body").get_text() == PAYLOAD

    token = start(client, body=PAYLOAD, name=PAYLOAD, contact="guest+<b>&x@example.com")
    assert client.post(f"/c/{token}", data={"body": "2" + PAYLOAD}).status_code == 303
    for url in (f"/c/{token}", f"/c/{token}/frame", f"/c/{token}/messages"):
        response = client.get(url)
        assert_escaped(response)
        assert texts(soup(response), "#messages p.body")[::2] == [PAYLOAD, "2" + PAYLOAD]


def test_htmx_post_returns_the_fresh_form_and_leaves_the_message_to_the_log(client, demo):
    token = start(client)
    hx = {"HX-Request": "true"}
    response = client.post(f"/c/{token}", data={"body": "Sent with htmx", "client_id": client_id()},
                           headers=hx)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert 'id="message-form"' in response.text and "hx-swap-oob" in response.text
    assert "<html" not in response.text
    page = soup(response)
    assert page.select_one("#message-form textarea").get_text() == ""
    # The message reaches the page by its socket or poll, which append after the page's
    # cursor: sent in this answer too, it would show twice.
    assert "Sent with htmx" not in response.text
    assert texts(soup(client.get(f"/c/{token}")), "#messages p.body")[-1] == "Sent with htmx"

    refused = client.post(f"/c/{token}", data={"body": " ", "client_id": client_id()}, headers=hx)
    assert refused.status_code == 422
    assert 'id="message-form"' in refused.text and "<html" not in refused.text
    assert errors(refused) == ["Please write a message before sending."]


def test_the_message_poll(client, demo):
    token = start(client)
    first, newest = db.session.execute(
        db.select(db.func.min(Message.id), db.func.max(Message.id))).one()
    hx = {"HX-Request": "true"}
    nothing_new = client.get(f"/c/{token}/messages?after={newest}", headers=hx)
    assert nothing_new.status_code == 204 and nothing_new.data == b""
    # What comes after the page's cursor, placed before that cursor, which then goes.
    news = client.get(f"/c/{token}/messages?after={first}", headers=hx)
    assert news.status_code == 200 and "<html" not in news.text
    added = soup(news).select_one(f'[hx-swap-oob="beforebegin:#after-{first}"]')
    assert [li["id"] for li in added.select("li")] == [f"m{newest}", f"after-{newest}"]
    assert soup(news).select_one(f"li#after-{first}")["hx-swap-oob"] == "delete"
    # A cursor that is none of this conversation's messages: the whole list, by its id.
    whole = client.get(f"/c/{token}/messages?after=999999", headers=hx)
    assert soup(whole).select_one("#message-list")["hx-swap-oob"] == "true"
    assert len(soup(whole).select("#message-list li.message")) == 2
    page = soup(client.get(f"/c/{token}"))
    assert page.select_one("#messages")["hx-include"] == "#message-list [name=after]"
    assert page.select_one(f"#after-{newest} input[name=after]")["value"] == str(newest)
    plain = client.get(f"/c/{token}/messages?after={newest}")
    assert plain.status_code == 200 and "<html" in plain.text


def frame_ancestors(response):
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["Content-Security-Policy"].split(";"))
    return policy["frame-ancestors"].split()


def test_security_headers_follow_the_brand(client, demo):
    demo.embed_origins = ["https://shop.example"]
    db.session.commit()
    token = start(client)
    for url in ("/embed/demo", "/embed/demo/web", "/b/demo/room-412", f"/c/{token}",
                f"/c/{token}/frame"):
        response = client.get(url)
        assert response.status_code == 200
        assert sorted(frame_ancestors(response)) == ["'self'", "https://shop.example"], url
        assert response.headers["Referrer-Policy"] == "no-referrer"
    for url in (f"/c/{token}", f"/c/{token}/messages"):
        assert client.get(url).headers["Cache-Control"] == "no-store"
    # The frame without script is kept by the browser alone and revalidated on each refresh.
    assert client.get(f"/c/{token}/frame").headers["Cache-Control"] == "private, no-cache"
    assert frame_ancestors(client.get("/healthz")) == ["'none'"]


def test_a_flood_of_posts_gets_a_friendly_429(tmp_path, monkeypatch):
    # The limiter is one object shared by every app in this process: put it back afterwards.
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = create_app({"TESTING": True, "RATELIMIT_ENABLED": True,
                          "CUSTOMER_POST_LIMIT": "3/minute", "PUBLIC_URL": "http://kulak.test",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'kulak.db'}"},
                         environ={"KULAK_INSTANCE": str(tmp_path)})
    with limited.app_context():
        upgrade()
        seed_demo()
    client = CustomerClient(limited)
    statuses = [client.post(HELP, data={"body": f"Message {n}", "client_id": client_id()})
                .status_code for n in range(4)]
    assert statuses == [303, 303, 303, 429]
    flooded = client.responses[-1]
    assert texts(soup(flooded), "h1") == ["Slow down a little"]
    assert "Retry-After" in flooded.headers
    assert client.get("/b/demo/room-412").status_code == 200
    with limited.app_context():
        assert db.session.scalar(db.select(db.func.count(Conversation.id))) == 3
        db.engine.dispose()


def test_healthz(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.is_json
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}
