"""The one-time link whose button, not its opening, proves an address is the customer's: once,
for an hour, for its own brand and conversation only; only then is there a contact."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.admin.setup import create_brand
from app.reach import link
from models import ContactVerification, Conversation, db
from models.common import utcnow

from ..reach.delivered import arrived, texts
from ..test_journey_nojs import CustomerClient
from .reach import (
    GUEST,
    LINK_DEAD,
    VERIFY_LINK,
    age_notices,
    contacts,
    fresh,
    linked_mail,
    reach_block,
    save,
    send,
    soup,
    start,
)


@pytest.fixture
def client(app):
    return CustomerClient(app)


# The verification link -----------------------------------------------------------------------


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
