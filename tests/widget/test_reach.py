"""The way back: the customer leaves an address on their page, gets their conversation's link
there (through a real SMTP server or a real HTTP gateway), and proves the address theirs only
by pressing a one-time link's button."""
import json
import re
import secrets
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from app.admin.setup import create_brand
from app.reach import link
from models import (
    Contact,
    ContactVerification,
    Conversation,
    CustomerNotice,
    Message,
    OutgoingMail,
    db,
)
from models.common import utcnow

from ..inbox.staff import REPLY, Staff
from ..receivers import wait_for
from ..test_journey_nojs import Browser, CustomerClient

HELP = "/b/demo/room-412/help"
GUEST, PHONE = "ayse@example.com", "+905321234567"
HTMX = {"HX-Request": "true"}
VERIFY_LINK = re.compile(r"http://kulak\.test/v/[A-Za-z0-9_-]{43}")
ASKED_OFTEN = "You asked for the link a few times already; please try again in an hour."
LINK_DEAD = "This link has expired or was used already."


@pytest.fixture
def client(app):
    return CustomerClient(app)


@pytest.fixture
def gateway(demo, http_receiver):
    """The demo brand's SMS gateway: a real local HTTP server that takes Apprise's json://."""
    demo.sms_url = f"json://127.0.0.1:{http_receiver.port}/sms"
    db.session.commit()
    return http_receiver


def start(client, language="en", body="The shower has no hot water."):
    """Open a conversation as a customer does; return its token."""
    response = client.post(HELP, data={"body": body, "lang": language,
                                       "client_id": secrets.token_hex(8)})
    assert response.status_code == 303, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def fresh(token):
    db.session.rollback()
    return db.session.scalar(sa.select(Conversation).filter_by(token=token)
                             .execution_options(populate_existing=True))


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def save(client, token, address, htmx=False, **fields):
    data = {"address": address, "replies": "y", **fields}
    return client.post(f"/c/{token}/reach", data=data, headers=HTMX if htmx else {})


def send(client, token, htmx=False, **fields):
    return client.post(f"/c/{token}/reach/link", data=fields, headers=HTMX if htmx else {})


def contacts():
    db.session.rollback()
    return db.session.scalars(sa.select(Contact).order_by(Contact.id)).all()


def notices():
    db.session.rollback()
    return db.session.scalars(sa.select(CustomerNotice).order_by(CustomerNotice.id)).all()


def all_delivered(seconds=15):
    """Wait until every mail and SMS kept is sent or failed (no job left running)."""
    def settled():
        db.session.rollback()
        mails = db.session.scalars(sa.select(OutgoingMail)).all()
        return all(m.status in ("sent", "failed") for m in mails) and all(
            n.status in ("sent", "failed") for n in notices() if n.channel == "sms")
    assert wait_for(settled, seconds)
    return notices()


def parsed(message):
    raw = message["content"].replace("\r\n", "\n").encode("utf-8")
    return message_from_bytes(raw, policy=policy.default)


def texts(message):
    """(subject, plain text, HTML) of a mail the SMTP server received."""
    mail = parsed(message)
    return (mail["Subject"], mail.get_body(("plain",)).get_content(),
            mail.get_body(("html",)).get_content())


def arrived(smtp, count=1):
    """Wait for `count` mails at the SMTP server, let every delivery end, return them."""
    assert wait_for(lambda: len(smtp.messages) >= count, 15)
    all_delivered()
    return smtp.messages


def verification_token(text):
    [url] = VERIFY_LINK.findall(text)
    return url.rsplit("/", 1)[1]


def age_notices(**delta):
    """Move every notice back in time, as if it had been sent that long ago."""
    for notice in notices():
        notice.created_at -= timedelta(**delta)
    db.session.commit()


def reach_block(response):
    return soup(response).select_one("#reach")


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


# The verification link -----------------------------------------------------------------------

def linked_mail(client, smtp, token, address=GUEST, count=1):
    """Save `address`, send the link, return the verification token the mail carries."""
    save(client, token, address)
    assert send(client, token).status_code == 303
    return verification_token(texts(arrived(smtp, count)[count - 1])[1])


def test_opening_the_link_verifies_nothing_its_button_does_once(client, demo, smtp):
    token = start(client)
    vtoken = linked_mail(client, smtp, token)
    for _ in range(2):  # a mail scanner, then the person
        page = client.get(f"/v/{vtoken}")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    page = soup(page)
    assert page.select_one("h1").get_text() == f"Confirm that {GUEST} is yours"
    assert page.select_one("header .brand").get_text() == "Demo Hotel"
    form = page.select_one(f'form[action="/v/{vtoken}"]')
    assert form["method"] == "post" and form.select_one("button")
    assert contacts() == [] and fresh(token).contact_id is None

    answer = client.post(f"/v/{vtoken}")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/c/{token}#reach"
    [contact] = contacts()
    stored = fresh(token)
    assert (contact.brand_id, contact.channel, contact.address) == (stored.brand_id, "email",
                                                                    GUEST)
    assert contact.verified_at is not None and stored.contact_id == contact.id
    assert "Confirmed as yours." in reach_block(client.get(f"/c/{token}")).get_text()
    verified_at = contact.verified_at

    for method in ("POST", "GET"):  # a replay, and a look afterwards
        again = client.open(f"/v/{vtoken}", method=method)
        assert again.status_code == 410 and LINK_DEAD in again.text
        assert "The link to your conversation still works" in again.text
    [contact] = contacts()
    assert contact.verified_at == verified_at


def test_an_expired_or_unknown_link_is_refused(client, demo, smtp):
    token = start(client)
    vtoken = linked_mail(client, smtp, token)
    db.session.execute(sa.update(ContactVerification).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    for url in (f"/v/{vtoken}", "/v/" + "x" * 43, "/v/" + "x" * 500):
        for method in ("GET", "POST"):
            answer = client.open(url, method=method)
            assert answer.status_code == 410, url
            assert LINK_DEAD in answer.text
            assert answer.headers["Cache-Control"] == "no-store"
    assert contacts() == [] and fresh(token).contact_id is None


def test_a_link_verifies_only_for_its_own_brand_and_conversation(client, demo, smtp):
    other, _admin, _token = create_brand("other", "Other Inn", "admin@other.example")
    token = start(client)
    vtoken = linked_mail(client, smtp, token)
    with pytest.raises(link.LinkRefused):
        link.confirm(vtoken, other.id)
    assert contacts() == [] and link.open_verification(vtoken) is not None  # still unused
    conversation = link.confirm(vtoken, demo.id)
    [contact] = contacts()
    [verification] = db.session.scalars(sa.select(ContactVerification)).all()
    assert conversation.id == verification.conversation_id == fresh(token).id
    assert fresh(token).contact_id == contact.id
    assert contact.brand_id == demo.id == fresh(token).brand_id != other.id
    assert db.session.scalar(sa.select(sa.func.count(Conversation.id)).where(
        Conversation.contact_id.is_not(None))) == 1


def test_the_same_typed_address_joins_nothing_until_verified(client, demo, smtp):
    first, second = start(client, body="Towels, please."), start(client, body="And soap.")
    for token in (first, second):
        assert save(client, token, GUEST).status_code == 303
    assert contacts() == []
    assert fresh(first).contact_id is None and fresh(second).contact_id is None
    vtoken = linked_mail(client, smtp, first)
    assert client.post(f"/v/{vtoken}").status_code == 303
    [contact] = contacts()
    assert fresh(first).contact_id == contact.id
    assert fresh(second).contact_id is None  # it typed the address; it proved nothing


def test_a_verified_address_gets_no_verification_link_again(client, demo, smtp):
    token = start(client)
    vtoken = linked_mail(client, smtp, token)
    client.post(f"/v/{vtoken}")
    age_notices(minutes=2)
    assert send(client, token).status_code == 303
    text = texts(arrived(smtp, 2)[1])[1]
    assert f"http://kulak.test/c/{token}" in text and not VERIFY_LINK.findall(text)
    # Another address is unproven: its link asks again.
    age_notices(minutes=2)
    linked_mail(client, smtp, token, address="other@example.com", count=3)


def test_two_verifications_at_once_make_one_contact(app, client, demo, smtp, monkeypatch):
    first, second = start(client, body="Towels, please."), start(client, body="And soap.")
    first_link = linked_mail(client, smtp, first)
    second_link = linked_mail(client, smtp, second, count=2)
    assert client.post(f"/v/{first_link}").status_code == 303
    # The second looks for the contact before the first has made it, then inserts its own.
    looks = []
    real = link._find_contact

    def late(*args):
        looks.append(args)
        return None if len(looks) == 1 else real(*args)

    monkeypatch.setattr(link, "_find_contact", late)
    assert client.post(f"/v/{second_link}").status_code == 303
    [contact] = contacts()
    assert fresh(first).contact_id == fresh(second).contact_id == contact.id
    assert len(looks) == 2


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
