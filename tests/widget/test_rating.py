"""The customer's rating once staff resolve: plain forms, stored once, changeable for a while."""
import secrets
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from app.inbox import service as inbox
from app.realtime import fragments
from app.realtime.hub import LiveSocket
from app.widget import satisfaction
from models import Conversation, Rating, StaffMember, db
from models.common import utcnow

from ..inbox.staff import REOPEN, RESOLVE, Staff
from ..test_journey_nojs import CustomerClient

HELP = "/b/demo/room-412/help"


@pytest.fixture
def client(app):
    return CustomerClient(app)


@pytest.fixture
def manager(app, demo):
    return Staff(app, "manager@demo.example")


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def new_client_id():
    return secrets.token_hex(8)


def start(client):
    response = client.post(HELP, data={"body": "The shower has no hot water.",
                                       "client_id": new_client_id()})
    assert response.status_code == 303, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def conversation_of(token):
    db.session.expire_all()
    return Conversation.by_token(token)


def ratings(token):
    db.session.expire_all()
    return db.session.scalars(db.select(Rating).filter_by(
        conversation_id=conversation_of(token).id).order_by(Rating.round)).all()


def rating_form(page):
    return soup(page).select_one('#rating form[action$="/rating"]')


def rate(client, token, htmx=False, **fields):
    """Post the rating form of the customer's page, as a press of one of its buttons does."""
    form = rating_form(client.get(f"/c/{token}"))
    assert form is not None, "no rating form on the page"
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    for textarea in form.select("textarea"):
        data[textarea["name"]] = textarea.get_text()
    return client.post(form["action"], data={**data, **fields},
                       headers={"HX-Request": "true"} if htmx else {})


@pytest.fixture
def resolved(client, manager):
    """A conversation staff have just resolved in the inbox; returns its token."""
    token = start(client)
    assert manager.act(conversation_of(token).id, RESOLVE).status_code == 303
    return token


def set_brand(token, **settings):
    brand = conversation_of(token).brand
    for name, value in settings.items():
        setattr(brand, name, value)
    db.session.commit()


def test_the_resolved_conversation_asks_with_faces_and_words(client, resolved):
    form = rating_form(client.get(f"/c/{resolved}"))
    assert "How satisfied are you with how we handled this?" in form.get_text()
    buttons = form.select('button[name="csat"]')
    assert [b["value"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert [b.get_text(" ", strip=True) for b in buttons] == [
        "😠 Very dissatisfied", "🙁 Dissatisfied", "😐 Neither satisfied nor dissatisfied",
        "🙂 Satisfied", "😄 Very satisfied"]
    assert form["method"] == "post" and form.get("hx-post") == form["action"]
    assert not form.select('button[name="nps"]') and not form.select("script")


def test_a_rating_without_script_is_stored_then_thanked(client, resolved):
    answer = rate(client, resolved, csat="4")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/c/{resolved}?lang=en#rating"
    [rating] = ratings(resolved)
    assert (rating.csat, rating.nps, rating.round, rating.comment) == (4, None, 1, None)
    assert rating.brand_id == conversation_of(resolved).brand_id
    page = soup(client.get(f"/c/{resolved}"))
    thanks = page.select_one("#rating .thanks").get_text(" ", strip=True)
    assert "Thank you! You told us: 🙂 Satisfied." in thanks
    assert "You can change your answer until" in thanks
    assert page.select_one('button[name="csat"][aria-pressed="true"]')["value"] == "4"


def test_opening_a_link_stores_nothing(client, resolved):
    for url in (f"/c/{resolved}/rating", f"/c/{resolved}/rating?csat=5&nps=10",
                f"/c/{resolved}"):
        response = client.get(url)
        assert response.status_code in (200, 303), url
    assert client.get(f"/c/{resolved}/rating?csat=1").headers["Location"].endswith("#rating")
    assert ratings(resolved) == []


@pytest.mark.parametrize("fields, reason", [
    ({"csat": "6"}, "Please choose one of the five faces."),
    ({"csat": "0"}, "Please choose one of the five faces."),
    ({"csat": "-1"}, "Please choose one of the five faces."),
    ({"csat": "four"}, "Please choose one of the five faces."),
    ({"nps": "9"}, "Please choose one of the answers."),  # not asked by this brand
    ({}, "Please choose one of the answers."),
])
def test_an_answer_off_the_scale_is_refused_and_nothing_stored(client, resolved, fields,
                                                               reason):
    refused = rate(client, resolved, **fields)
    assert refused.status_code == 422
    assert reason in soup(refused).select_one("#rating p.error").get_text()
    assert rating_form(refused) is not None  # asked again, on the page
    assert ratings(resolved) == []


def test_a_comment_too_long_is_refused(client, resolved):
    rate(client, resolved, csat="2")
    refused = rate(client, resolved, csat="2", comment="x" * 1001)
    assert refused.status_code == 422
    assert "1001 characters long; the limit is 1000" in refused.text
    assert ratings(resolved)[0].comment is None


def test_an_open_conversation_cannot_be_rated(client, app, demo):
    token = start(client)
    page = client.get(f"/c/{token}")
    assert rating_form(page) is None and soup(page).select_one("#rating") is not None
    refused = client.post(f"/c/{token}/rating", data={"csat": "5"})
    assert refused.status_code == 422
    assert "not resolved, so there is nothing to rate now" in refused.text
    assert ratings(token) == []


def test_the_same_form_posted_twice_is_stored_once(client, resolved):
    client_id = new_client_id()
    for value in ("2", "2", "5"):  # a retry, then the same page's second press
        assert client.post(f"/c/{resolved}/rating", data={
            "csat": value, "client_id": client_id}).status_code == 303
    [rating] = ratings(resolved)
    assert (rating.csat, rating.client_id) == (2, client_id)


def test_a_race_for_the_first_answer_keeps_one_row_with_the_later_answer(resolved,
                                                                         monkeypatch):
    conversation = conversation_of(resolved)
    first, _ = satisfaction.rate(conversation, csat=1, client_id=new_client_id())
    looked_up = []
    real = satisfaction.current_rating

    def not_yet_seen(convo):  # the other post's row is committed after this one looked
        looked_up.append(1)
        return None if len(looked_up) == 1 else real(convo)

    monkeypatch.setattr(satisfaction, "current_rating", not_yet_seen)
    rating, stored = satisfaction.rate(conversation, csat=5, client_id=new_client_id())
    assert stored and rating.id == first.id
    assert [(r.csat, r.round) for r in ratings(resolved)] == [(5, 1)]


def test_the_answer_and_comment_can_be_changed(client, resolved):
    rate(client, resolved, csat="2")
    created = ratings(resolved)[0].created_at
    assert rate(client, resolved, csat="5").status_code == 303
    assert rate(client, resolved, send="comment", comment="  Quick fix, thanks!  ").status_code == 303
    [rating] = ratings(resolved)
    assert (rating.csat, rating.comment) == (5, "Quick fix, thanks!")
    assert rating.updated_at >= created
    page = client.get(f"/c/{resolved}")
    assert soup(page).select_one("#rating-comment").get_text() == "Quick fix, thanks!"
    rate(client, resolved, send="comment", comment="")
    assert ratings(resolved)[0].comment is None and ratings(resolved)[0].csat == 5
    assert conversation_of(resolved).csat == 5  # kept in step for the reports


def test_reopening_ends_the_rating_and_resolving_again_asks_again(client, manager, resolved):
    rate(client, resolved, csat="2")
    conversation_id = conversation_of(resolved).id
    manager.act(conversation_id, REOPEN)
    assert rating_form(client.get(f"/c/{resolved}")) is None
    assert client.post(f"/c/{resolved}/rating", data={"csat": "5"}).status_code == 422
    manager.act(conversation_id, RESOLVE)
    page = client.get(f"/c/{resolved}")
    assert rating_form(page) is not None and soup(page).select_one(".thanks") is None
    assert conversation_of(resolved).csat == 2  # the latest word until the new answer
    rate(client, resolved, csat="5")
    assert [(r.round, r.csat) for r in ratings(resolved)] == [(1, 2), (2, 5)]
    assert conversation_of(resolved).csat == 5  # what reports read


def test_a_customer_message_reopens_and_takes_the_question_away(client, resolved):
    page = client.post(f"/c/{resolved}", data={"body": "One more thing", "client_id":
                                                new_client_id()}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    box = soup(page).select_one("#rating")
    assert box["hx-swap-oob"] == "true" and box.select_one("form") is None
    assert conversation_of(resolved).status == "open"


def test_after_the_brands_limit_the_form_is_gone_and_a_post_refused(client, resolved):
    conversation = conversation_of(resolved)
    conversation.resolved_at = utcnow() - timedelta(days=7, minutes=1)
    db.session.commit()
    assert rating_form(client.get(f"/c/{resolved}")) is None
    refused = client.post(f"/c/{resolved}/rating", data={"csat": "4"})
    assert refused.status_code == 422 and "time for rating this conversation has passed" in (
        refused.text)
    set_brand(resolved, rating_days=8)
    assert rate(client, resolved, csat="4").status_code == 303


def test_a_brand_asking_nps_instead(client, resolved):
    set_brand(resolved, rating_mode="nps")
    form = rating_form(client.get(f"/c/{resolved}"))
    assert [b["value"] for b in form.select('button[name="nps"]')] == [str(n) for n in range(11)]
    assert not form.select('button[name="csat"]')
    assert "How likely are you to recommend Demo Hotel" in form.get_text()
    assert rate(client, resolved, csat="4").status_code == 422
    assert rate(client, resolved, nps="11").status_code == 422
    assert ratings(resolved) == []
    assert rate(client, resolved, nps="0").status_code == 303
    assert [(r.csat, r.nps) for r in ratings(resolved)] == [(None, 0)]
    assert "You gave us 0 out of 10." in client.get(f"/c/{resolved}").text


def test_a_brand_asking_both_asks_nps_after_the_csat_answer(client, resolved):
    set_brand(resolved, rating_mode="both")
    form = rating_form(client.get(f"/c/{resolved}"))
    assert form.select('button[name="csat"]') and not form.select('button[name="nps"]')
    rate(client, resolved, csat="5")
    form = rating_form(client.get(f"/c/{resolved}"))
    assert form.select('button[name="nps"]') and form.select('button[name="csat"]')
    rate(client, resolved, nps="9", comment="Lovely staff")
    [rating] = ratings(resolved)
    assert (rating.csat, rating.nps, rating.comment) == (5, 9, "Lovely staff")


def test_with_htmx_the_answer_swaps_in_place(client, resolved):
    answered = rate(client, resolved, htmx=True, csat="3")
    assert answered.status_code == 200 and "<html" not in answered.text
    box = soup(answered).select_one("div#rating")
    assert "You told us: 😐 Neither satisfied nor dissatisfied." in box.get_text()
    assert box.select_one('input[name="client_id"]')["value"]  # a fresh one for a change
    refused = rate(client, resolved, htmx=True, csat="9")
    assert refused.status_code == 422 and "<html" not in refused.text
    assert "five faces" in soup(refused).select_one("#rating p.error").get_text()
    assert ratings(resolved)[0].csat == 3


def test_the_self_refreshing_frame_leads_to_the_question(client, resolved):
    link = soup(client.get(f"/c/{resolved}/frame")).select_one(".rate-link a")
    assert link["target"] == "_parent" and link["href"].endswith(f"/c/{resolved}?lang=en#rating")
    rate(client, resolved, csat="4")
    assert soup(client.get(f"/c/{resolved}/frame")).select_one(".rate-link") is None


def live_html(conversation, kind):
    socket = LiveSocket(None, conversation.brand_id, conversation_id=conversation.id)
    rendered = fragments.render({"type": kind, "conversation_id": conversation.id},
                                "customer", socket)
    return soup(type("R", (), {"text": getattr(rendered, "html", rendered)})())


def test_the_live_update_brings_the_question_and_takes_it_away(app, client, resolved):
    conversation = conversation_of(resolved)
    with app.test_request_context("/"):
        box = live_html(conversation, "conversation").select_one("#rating")
        assert box["hx-swap-oob"] == "true" and box.select('button[name="csat"]')
        assert not box.select_one('input[name="client_id"]')["value"]  # one render for all
        assert live_html(conversation, "typing").select_one("#rating") is None
        staff = db.session.scalar(db.select(StaffMember).filter_by(email="manager@demo.example"))
        inbox.reopen(conversation, staff)
        box = live_html(conversation, "conversation").select_one("#rating")
        assert box["hx-swap-oob"] == "true" and box.select_one("form") is None


def test_staff_read_the_customers_rating_on_the_conversation(client, manager, resolved):
    conversation_id = conversation_of(resolved).id
    page = soup(manager.get(f"/inbox/c/{conversation_id}"))
    assert page.select_one(".customer-rating") is None  # nothing said yet
    rate(client, resolved, csat="2")
    page = soup(manager.get(f"/inbox/c/{conversation_id}"))
    assert page.select_one(".customer-rating").get_text().strip() == \
        "The customer rated it 2 of 5."
