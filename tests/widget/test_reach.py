"""The way back: the customer leaves an address on their page and gets their conversation's
link there (through a real SMTP server or a real HTTP gateway), turns replies by mail off, and
the page records what they have seen."""
import json
import threading
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from models import ContactVerification, Conversation, Message, db

from ..inbox.staff import REPLY, Staff
from ..reach.delivered import all_delivered, arrived, notices, texts
from ..receivers import wait_for
from ..test_journey_nojs import Browser, CustomerClient
from .reach import (
    ASKED_OFTEN,
    GUEST,
    HTMX,
    PHONE,
    VERIFY_LINK,
    age_notices,
    contacts,
    fresh,
    reach_block,
    save,
    send,
    soup,
    start,
    verification_token,
)


@pytest.fixture
def client(app):
    return CustomerClient(app)


# Leaving an address ---------------------------------------------------------------------------

def test_without_a_way_to_send_the_page_asks_for_no_address(client, demo):
    token = start(client)
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and reach_block(page) is None


def test_an_email_address_is_kept_normalised_and_proves_nothing(client, demo, smtp):
    token = start(client)
    block = reach_block(client.get(f"/c/{token}"))
    assert "So we can reach you if you leave" in block.get_text()
    assert ("We use it only to send you this conversation's link and replies you miss. "
            "Nothing else.") in block.get_text()
    form = block.select_one("form")
    assert form["method"] == "post" and form["action"] == f"/c/{token}/reach"
    assert form["hx-post"] == form["action"] and form["hx-target"] == "#reach"
    assert block.select_one('label[for="reach-address"]').get_text() == "Email address"
    assert not block.select(f'form[action="/c/{token}/reach/link"]')  # nothing saved yet

    answer = save(client, token, "  Ayse@Example.COM ")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/c/{token}#reach"
    stored = fresh(token)
    assert (stored.reach_channel, stored.reach_address) == ("email", GUEST)
    assert stored.reach_replies is True and stored.contact_id is None
    assert contacts() == [] and notices() == []  # typed is not verified, nor sent
    block = reach_block(client.get(f"/c/{token}"))
    assert f"We will reach you at {GUEST}." in block.get_text()
    assert block.select_one("#reach-address")["value"] == GUEST
    assert block.select_one(f'form[action="/c/{token}/reach/link"] button').get_text() == \
        "Send me this conversation's link"


@pytest.mark.parametrize("typed, message", [
    ("ayse@", "This is not an email address: write it as name@example.com."),
    ("ayse@example.com, boss@example.com",
     "This is not an email address: write it as name@example.com."),
    ("", "Please enter an email address or a phone number."),
    ("a" * 250 + "@x.com", "Please use at most 254 characters."),
])
def test_a_wrong_email_address_is_refused_in_place_and_nothing_is_kept(
        client, demo, smtp, typed, message):
    token = start(client)
    for htmx in (False, True):
        answer = save(client, token, typed, htmx=htmx)
        assert answer.status_code == 422
        block = reach_block(answer)
        assert block.select_one("#reach-address-error").get_text() == message
        assert block.select_one("#reach-address")["aria-invalid"] == "true"
        assert block.select_one("#reach-address")["value"] == typed
        # Without script the whole page comes back; with htmx the block alone.
        assert bool(soup(answer).select("#messages")) is not htmx
    stored = fresh(token)
    assert (stored.reach_channel, stored.reach_address) == (None, None)


def test_a_phone_number_needs_its_country_code(client, demo, gateway):
    token = start(client)
    block = reach_block(client.get(f"/c/{token}"))
    assert block.select_one('label[for="reach-address"]').get_text() == "Phone number"
    answer = save(client, token, "0532 123 45 67")
    assert answer.status_code == 422
    assert "write it with its country code, such as +90 532 123 45 67" in \
        reach_block(answer).select_one("#reach-address-error").get_text()
    assert fresh(token).reach_address is None

    assert save(client, token, "+90 (532) 123-45-67").status_code == 303
    stored = fresh(token)
    assert (stored.reach_channel, stored.reach_address) == ("sms", PHONE)


def test_with_both_channels_one_box_takes_either(client, demo, smtp, gateway):
    token = start(client)
    block = reach_block(client.get(f"/c/{token}"))
    assert block.select_one('label[for="reach-address"]').get_text() == "Email or phone number"
    assert save(client, token, "0090 532 123 45 67").status_code == 303
    assert (fresh(token).reach_channel, fresh(token).reach_address) == ("sms", PHONE)
    # The address can be changed: the page's link is the customer's key.
    assert save(client, token, GUEST).status_code == 303
    assert (fresh(token).reach_channel, fresh(token).reach_address) == ("email", GUEST)


def test_a_channel_the_brand_cannot_send_on_is_refused(client, demo, gateway):
    token = start(client)
    answer = save(client, token, GUEST, channel="email", htmx=True)
    assert answer.status_code == 422
    assert "Demo Hotel cannot send email: please give a phone number" in answer.text
    answer = save(client, token, GUEST, channel="fax")
    assert answer.status_code == 422
    assert "Please choose email or text message." in reach_block(answer).get_text()
    assert fresh(token).reach_address is None


def test_with_script_the_block_comes_back_saved(client, demo, smtp):
    token = start(client)
    answer = save(client, token, GUEST, htmx=True)
    assert answer.status_code == 200
    assert answer.text.startswith('<section id="reach"')
    assert f"We will reach you at {GUEST}." in answer.text
    assert "Vary" in answer.headers and "HX-Request" in answer.headers["Vary"]


# The link ------------------------------------------------------------------------------------

def test_the_link_arrives_once_with_the_conversation_and_a_verification_link(
        client, demo, smtp):
    token = start(client)
    save(client, token, GUEST)
    answer = send(client, token)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/c/{token}#reach"
    [mail] = arrived(smtp)
    assert mail["to"] == [GUEST]
    subject, text, html = texts(mail)
    assert subject == "Your conversation with Demo Hotel"
    assert f"http://kulak.test/c/{token}\n" in text and "Demo Hotel" in text
    assert f'href="http://kulak.test/c/{token}"' in html
    vtoken = verification_token(text)
    assert f'href="http://kulak.test/v/{vtoken}"' in html
    [notice] = notices()
    assert (notice.purpose, notice.channel, notice.address) == ("link", "email", GUEST)
    [verification] = db.session.scalars(sa.select(ContactVerification)).all()
    assert (verification.conversation_id, verification.address) == (fresh(token).id, GUEST)
    assert verification.token_hash != vtoken  # only its hash is kept
    # The mailed link opens the conversation, with no cookie and nothing else.
    opened = client.get(urlparse(f"http://kulak.test/c/{token}").path)
    assert opened.status_code == 200 and "The shower has no hot water." in opened.text
    assert "We sent the link to ayse@example.com at" in reach_block(opened).get_text()


def test_a_turkish_conversation_gets_its_link_in_turkish(client, demo, smtp):
    token = start(client, language="tr", body="Duşta sıcak su yok.")
    assert fresh(token).language == "tr"
    save(client, token, GUEST)
    assert send(client, token).status_code == 303
    subject, text, html = texts(arrived(smtp)[0])
    assert subject == "Demo Hotel ile görüşmeniz"
    assert text.startswith("Merhaba,")
    assert "Demo Hotel ile görüşmenizin bağlantısı burada." in text
    assert "Bu adres sizin mi?" in text and 'lang="tr"' in html
    assert "Here is the link" not in text and f"http://kulak.test/c/{token}" in text


def test_the_link_goes_to_the_saved_address_never_to_one_posted_with_it(client, demo, smtp):
    token = start(client)
    save(client, token, GUEST)
    answer = send(client, token, address="victim@example.com", channel="email",
                  reach_address="victim@example.com")
    assert answer.status_code == 303
    [mail] = arrived(smtp)
    assert mail["to"] == [GUEST] and "victim" not in mail["content"]
    assert [n.address for n in notices()] == [GUEST]
    assert fresh(token).reach_address == GUEST


def test_no_link_without_a_saved_address(client, demo, smtp):
    token = start(client)
    answer = send(client, token, htmx=True)
    assert answer.status_code == 422
    assert "Please save your email address or phone number first" in answer.text
    assert notices() == [] and smtp.messages == []


def test_a_double_press_sends_one_link(client, demo, smtp):
    token = start(client)
    save(client, token, GUEST)
    assert send(client, token).status_code == 303
    assert send(client, token, htmx=True).status_code == 200  # a retry: "sent", once
    arrived(smtp)
    assert len(smtp.messages) == 1 and len(notices()) == 1
    assert db.session.scalar(sa.select(sa.func.count(ContactVerification.id))) == 1


def test_two_presses_at_once_send_one_link(app, client, demo, smtp):
    token = start(client)
    save(client, token, GUEST)
    barrier, statuses = threading.Barrier(2), []

    def press():
        other = app.test_client()
        barrier.wait()
        statuses.append(other.post(f"/c/{token}/reach/link").status_code)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [303, 303]
    arrived(smtp)
    assert len(smtp.messages) == 1 and len(notices()) == 1


def test_the_fourth_link_in_an_hour_is_refused(client, demo, smtp):
    token = start(client)
    save(client, token, GUEST)
    for count in range(1, 4):
        assert send(client, token).status_code == 303
        arrived(smtp, count)
        age_notices(minutes=2)  # past the retry minute, within the hour
    for htmx in (False, True):
        answer = send(client, token, htmx=htmx)
        assert answer.status_code == 422
        assert ASKED_OFTEN in reach_block(answer).get_text()
    assert len(notices()) == 3 and len(smtp.messages) == 3
    age_notices(minutes=60)  # an hour later it may go again
    assert send(client, token).status_code == 303
    arrived(smtp, 4)


def test_one_address_gets_five_links_a_day_whatever_pages_ask(client, demo, smtp):
    tokens = [start(client, body=f"Question {n}") for n in range(3)]
    for token in tokens:
        save(client, token, GUEST)
    for token in tokens[:2] + tokens[:1] + tokens[1:2] + tokens[:1]:
        assert send(client, token).status_code == 303
        age_notices(minutes=2)
    arrived(smtp, 5)
    age_notices(hours=2)  # each conversation's hour is over: the day's limit still holds
    answer = send(client, tokens[2])
    assert answer.status_code == 422
    assert "We have sent this address several links today" in reach_block(answer).get_text()
    assert len(notices()) == 5 and len(smtp.messages) == 5


def test_the_link_goes_by_text_message_through_the_gateway(client, demo, gateway):
    token = start(client)
    save(client, token, "+90 532 123 45 67")
    assert send(client, token).status_code == 303
    assert wait_for(lambda: gateway.requests, 15)
    [notice] = all_delivered()
    [posted] = gateway.requests
    assert posted["path"] == "/sms"
    message = json.loads(posted["body"])["message"]
    assert message.startswith("Demo Hotel: the link to your conversation: "
                              f"http://kulak.test/c/{token}")
    assert len(VERIFY_LINK.findall(message)) == 1
    assert (notice.channel, notice.address, notice.status, notice.text) == (
        "sms", PHONE, "sent", None)



# Replies on or off, and what the customer has seen -------------------------------------------

def test_replies_by_mail_can_be_turned_off_and_on(client, demo, smtp):
    token = start(client)
    save(client, token, GUEST)
    block = reach_block(client.get(f"/c/{token}"))
    form = block.select_one(f'form[action="/c/{token}/reach/replies"]')
    assert form["hx-post"] == form["action"]
    assert form.select_one('input[name="replies"]')["value"] == "off"
    assert form.select_one("button").get_text() == "Stop sending me replies by email"
    answer = client.post(form["action"], data={"replies": "off"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/c/{token}#reach"
    assert fresh(token).reach_replies is False
    answer = client.post(form["action"], data={"replies": "on"}, headers=HTMX)
    assert answer.status_code == 200 and "Stop sending me replies by email" in answer.text
    assert fresh(token).reach_replies is True
    assert client.post(form["action"], data={"replies": "maybe"}).status_code == 422
    # The save form's box says the same: left unticked, replies stop.
    assert save(client, token, GUEST, replies="").status_code == 303
    assert fresh(token).reach_replies is False
    block = reach_block(client.get(f"/c/{token}"))
    assert not block.select_one('input[name="replies"][type="checkbox"]').has_attr("checked")
    assert "Send me the replies I miss by email" in block.get_text()


def test_opening_a_form_address_only_leads_back(client, demo, smtp):
    token = start(client)
    for path in ("reach", "reach/link", "reach/replies"):
        answer = client.get(f"/c/{token}/{path}")
        assert answer.status_code == 303 and answer.headers["Location"] == f"/c/{token}#reach"
    assert notices() == []


def test_the_page_frame_and_list_mark_what_the_customer_has_seen(app, client, demo):
    token = start(client)
    newest = db.session.scalar(sa.select(sa.func.max(Message.id)).join(Conversation)
                               .where(Conversation.token == token))
    assert fresh(token).customer_seen_message_id is None
    assert client.get(f"/c/{token}").status_code == 200
    assert fresh(token).customer_seen_message_id == newest

    agent = Staff(app, "agent@demo.example")
    for number, url in enumerate((f"/c/{token}/messages", f"/c/{token}/frame")):
        assert agent.act(fresh(token).id, REPLY, body=f"Reply {number}").status_code == 303
        reply = db.session.scalar(sa.select(sa.func.max(Message.id)))
        assert fresh(token).customer_seen_message_id < reply
        assert client.get(url).status_code == 200
        assert fresh(token).customer_seen_message_id == reply
    # A poll that has seen the newest gets nothing, and changes nothing.
    assert client.get(f"/c/{token}/messages?after={reply}", headers=HTMX).status_code == 204
    assert fresh(token).customer_seen_message_id == reply


# Without script, on a real server ------------------------------------------------------------

@pytest.mark.server
def test_without_javascript_the_customer_saves_a_number_and_gets_the_link(
        live_server, live_gateway):
    browser = Browser(live_server.url)
    browser.open("/b/demo/room-412/help")
    browser.form().fill("Tell us what you need", "The window does not close.").submit()
    token = urlparse(browser.url).path.rsplit("/", 1)[1]
    browser.form("#reach form").fill("Phone number", "+90 532 123 45 67").submit()
    [hop] = browser.response.history
    assert hop.status_code == 303 and hop.headers["Location"] == f"/c/{token}?lang=en#reach"
    assert "We will reach you at +905321234567." in browser.soup.select_one("#reach").get_text()
    browser.form(f'#reach form[action="/c/{token}/reach/link"]').submit()
    assert browser.response.history[0].headers["Location"] == f"/c/{token}?lang=en#reach"
    assert "We sent the link to +905321234567 at" in browser.soup.select_one("#reach").get_text()
    assert wait_for(lambda: live_gateway.requests, 15)
    message = json.loads(live_gateway.requests[0]["body"])["message"]
    assert f"{live_server.url}/c/{token}" in message
    browser.finish()
