"""A first post's client id finds a retry only at its own brand, place and text, never a page."""
import secrets

import pytest
from bs4 import BeautifulSoup

from app.admin.setup import create_brand
from models import Brand, Conversation, Message, Survey, db

from ..test_journey_nojs import CustomerClient

ROOM = "/b/demo/room-412/help"
OTHER = "/b/other/web/help"
BODY = "The shower has no hot water."


@pytest.fixture
def client(app):
    return CustomerClient(app)


@pytest.fixture
def other(demo):
    """A second brand beside the demo one: brand B, with its own "web" touchpoint."""
    brand, _admin, _token = create_brand("other", "Other Inn", "admin@other.example")
    return brand


def new_client_id():
    return secrets.token_hex(16)


def post_first(client, url, client_id, body=BODY):
    """Send a "how can we help" form; return the token of the conversation it lands in."""
    response = client.post(url, data={"body": body, "client_id": client_id})
    assert response.status_code == 303, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def transcript(token):
    """Return (author, body, client id) of each message of the conversation, oldest first."""
    return db.session.execute(
        db.select(Message.author_kind, Message.body, Message.client_id).join(Conversation)
        .where(Conversation.token == token).order_by(Message.id)).all()


def place(token):
    """Return (brand slug, touchpoint id) of the conversation behind `token`."""
    return db.session.execute(
        db.select(Brand.slug, Conversation.touchpoint_id).join(Brand)
        .where(Conversation.token == token)).one()


def customer_bodies(token):
    return [body for author, body, _id in transcript(token) if author == "customer"]


def conversation_count():
    return db.session.scalar(db.select(db.func.count(Conversation.id)))


def test_another_brands_form_with_a_taken_client_id_opens_that_brands_own_conversation(
        client, other):
    client_id = new_client_id()
    first = post_first(client, ROOM, client_id)
    before = transcript(first)
    # Even the same words: a conversation of brand A is never a retry of a post to brand B.
    for body in (BODY, "Is the pool open tonight?"):
        token = post_first(client, OTHER, client_id, body)
        assert token != first
        assert place(token)[0] == "other"
        assert customer_bodies(token) == [body]
        assert transcript(token)[0] == ("customer", body, client_id)
        # A retry of that post finds it, though the id was taken: nothing is stored twice.
        assert post_first(client, OTHER, client_id, body) == token
        assert customer_bodies(token) == [body]
    assert transcript(first) == before
    assert conversation_count() == 3


@pytest.mark.parametrize("url", ["/b/demo/table-7/help", "/b/demo/help", "/embed/demo/help"])
def test_the_same_brand_at_another_place_opens_a_new_conversation(client, demo, url):
    client_id = new_client_id()
    first = post_first(client, ROOM, client_id)
    before = transcript(first)
    token = post_first(client, url, client_id)
    assert token != first and place(token)[1] != place(first)[1]
    assert customer_bodies(token) == [BODY]
    assert transcript(first) == before
    assert conversation_count() == 2


def test_the_same_place_with_other_words_opens_a_new_conversation(client, demo):
    client_id = new_client_id()
    first = post_first(client, ROOM, client_id)
    before = transcript(first)
    token = post_first(client, ROOM, client_id, "The minibar is empty.")
    assert token != first and place(token) == place(first)
    assert customer_bodies(token) == ["The minibar is empty."]
    assert transcript(first) == before
    assert conversation_count() == 2


def test_a_genuine_retry_lands_in_the_same_conversation_with_one_message(client, other):
    taken = new_client_id()
    post_first(client, ROOM, taken)
    # A fresh id, and one another brand's conversation already holds.
    for url, client_id in ((ROOM, new_client_id()), (OTHER, taken)):
        tokens = {post_first(client, url, client_id, "Is breakfast included?") for _ in range(3)}
        [token] = tokens
        assert customer_bodies(token) == ["Is breakfast included?"]
    assert conversation_count() == 3


def test_a_retry_that_races_the_first_post_finds_it_at_commit(client, demo, monkeypatch):
    client_id = new_client_id()
    first = post_first(client, ROOM, client_id)
    look_up, calls = Conversation.opened_with.__func__, []

    def misses_once(cls, *args):
        # As if the first post committed between the retry's look-up and its own commit.
        calls.append(args)
        return None if len(calls) == 1 else look_up(cls, *args)

    monkeypatch.setattr(Conversation, "opened_with", classmethod(misses_once))
    assert post_first(client, ROOM, client_id) == first
    assert len(calls) == 2
    assert customer_bodies(first) == [BODY]
    assert conversation_count() == 1


def test_every_page_with_a_client_id_in_its_form_is_never_stored(client, other):
    # Without a live survey the entry page is the "how can we help" form itself.
    db.session.scalar(db.select(Survey).filter_by(brand_id=other.id)).active = False
    db.session.commit()
    token = post_first(client, ROOM, new_client_id())
    htmx = {"HX-Request": "true"}
    responses = {
        **{url: client.get(url) for url in (
            ROOM, "/b/demo/help", "/embed/demo/help", "/embed/demo/web/help", "/b/other",
            "/embed/other/web", f"/c/{token}")},
        "help, refused": client.post(ROOM, data={"body": "", "client_id": new_client_id()}),
        "message, refused": client.post(f"/c/{token}",
                                        data={"body": "", "client_id": new_client_id()}),
        "message, htmx": client.post(f"/c/{token}", headers=htmx,
                                     data={"body": "Thanks.", "client_id": new_client_id()}),
    }
    for page, response in responses.items():
        client_id = BeautifulSoup(response.text, "html.parser").select_one(
            "form input[name=client_id]")
        assert client_id is not None and client_id["value"], page
        assert response.headers.get("Cache-Control") == "no-store", page
