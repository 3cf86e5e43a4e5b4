"""Steps of the customer's way back, as the tests of its pages take them."""
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from bs4 import BeautifulSoup

from models import Contact, Conversation, db

from ..reach.delivered import arrived, notices, texts

HELP = "/b/demo/room-412/help"
GUEST, PHONE = "ayse@example.com", "+905321234567"
HTMX = {"HX-Request": "true"}
VERIFY_LINK = re.compile(r"http://kulak\.test/v/[A-Za-z0-9_-]{43}")
ASKED_OFTEN = "You asked for the link a few times already; please try again in an hour."
LINK_DEAD = "This link has expired or was used already."


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


def linked_mail(client, smtp, token, address=GUEST, count=1):
    """Save `address`, send the link, return the verification token the mail carries."""
    save(client, token, address)
    assert send(client, token).status_code == 303
    return verification_token(texts(arrived(smtp, count)[count - 1])[1])

