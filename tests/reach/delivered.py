"""What the tests of the way back read off the real receivers and the notices table."""
from email import message_from_bytes, policy

from sqlalchemy import select

from models import CustomerNotice, OutgoingMail, db

from ..receivers import wait_for


def notices():
    db.session.rollback()
    return db.session.scalars(select(CustomerNotice).order_by(CustomerNotice.id)).all()


def all_delivered(seconds=15):
    """Wait until every mail and SMS kept is sent or failed (no job left running)."""
    def settled():
        db.session.rollback()
        mails = db.session.scalars(select(OutgoingMail)).all()
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
