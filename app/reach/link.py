"""The way back to a conversation: the address a customer leaves on its page, the link sent
there, and the one-time link whose button proves the address is theirs (only then a contact).

Plain values in; each operation commits. An address typed on a page is never trusted: it is
where this conversation's link goes, and nothing more, until its owner presses the button.
"""
from datetime import timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.core.payloads import absolute_url, conversation_url
from app.reach import sending
from app.reach.addresses import AddressRefused, channel_of, normalise
from models import Contact, ContactVerification, Conversation, CustomerNotice, db
from models.common import utcnow
from models.contact import CHANNELS

# One conversation asks a few times an hour at most; one address gets a few links a day
# whatever page asks, so the form cannot be used to flood somebody else's mailbox or phone.
PER_CONVERSATION, CONVERSATION_WINDOW = 3, timedelta(hours=1)
PER_ADDRESS, ADDRESS_WINDOW = 5, timedelta(hours=24)
# A second press this soon after the first is a double click or a retry: nothing is sent.
RETRY_WINDOW = timedelta(seconds=60)

NO_ADDRESS = _l("Please save your email address or phone number first: the link goes there.")
ASKED_OFTEN = _l("You asked for the link a few times already; please try again in an hour.")
ADDRESS_OFTEN = _l("We have sent this address several links today; please try again "
                   "tomorrow, or bookmark this page.")
LINK_DEAD = _l("This link has expired or was used already. The link to your conversation "
               "still works: open it from the same message.")


class LinkRefused(ValueError):
    """A link that cannot be sent or confirmed now, with a message the customer understands."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def unavailable(brand, channel):
    """Return why `brand` cannot reach a customer on `channel` now, and what they can do."""
    others = [c for c in sending.channels(brand) if c != channel]
    if not others:
        return _("%(brand)s cannot send email or text messages just now: please bookmark "
                 "this page to come back.", brand=brand.name)
    if channel == "sms":
        return _("%(brand)s cannot send text messages: please give an email address "
                 "instead.", brand=brand.name)
    return _("%(brand)s cannot send email: please give a phone number, with its country "
             "code, instead.", brand=brand.name)


def guess_channel(brand, text):
    """Return the channel of an address typed in the one box: the brand's only one, or by @."""
    available = sending.channels(brand)
    return available[0] if len(available) == 1 else channel_of(text)


def set_address(conversation, channel, text):
    """Keep where the customer asks to be reached (`channel` None: guessed); return it.

    Raises AddressRefused with the customer's message (nothing is kept) for an address that
    cannot be used, or a channel the brand cannot send on now.
    """
    brand = conversation.brand
    channel = channel or guess_channel(brand, text)
    if channel in CHANNELS and channel not in sending.channels(brand):
        raise AddressRefused(unavailable(brand, channel))
    address = normalise(channel, text)
    # The page's link is the customer's key: whoever holds it may change where it goes.
    conversation.reach_channel, conversation.reach_address = channel, address
    db.session.commit()
    return address


def set_replies(conversation, on):
    """Turn on or off the replies they miss going to the address they gave."""
    conversation.reach_replies = bool(on)
    db.session.commit()
    return conversation.reach_replies


def verification_url(token):
    """Return the absolute address of a verification link (sent, never stored)."""
    return absolute_url("widget.verify", vtoken=token)


def last_sent(conversation):
    """Return the newest "your link" notice of `conversation` of the last hour, or None."""
    return db.session.scalar(db.select(CustomerNotice).where(
        CustomerNotice.conversation_id == conversation.id, CustomerNotice.purpose == "link",
        CustomerNotice.created_at >= utcnow() - CONVERSATION_WINDOW)
        .order_by(CustomerNotice.id.desc()).limit(1))


def reach_state(conversation):
    """Return what the conversation's page shows of the way back (no channels: nothing)."""
    channels = sending.channels(conversation.brand)
    if not channels or not conversation.reach_address:
        return {"reach_channels": channels, "reach_sent": None, "reach_proven": False}
    return {"reach_channels": channels, "reach_sent": last_sent(conversation),
            "reach_proven": _proven(conversation, conversation.reach_channel,
                                    conversation.reach_address)}


def _hold(conversation):
    # An update that changes nothing locks the conversation's row until the commit: of two
    # presses at once the second waits here, then finds the first one's notice (a retry).
    db.session.execute(db.update(Conversation).where(Conversation.id == conversation.id)
                       .values(updated_at=Conversation.updated_at))


def _retried(conversation, address, now):
    return db.session.scalar(db.select(CustomerNotice).where(
        CustomerNotice.conversation_id == conversation.id, CustomerNotice.address == address,
        CustomerNotice.purpose == "link", CustomerNotice.created_at >= now - RETRY_WINDOW)
        .order_by(CustomerNotice.id.desc()).limit(1))


def _check_limits(conversation, address, now):
    if sending.sent_since(now - CONVERSATION_WINDOW, conversation_id=conversation.id,
                          purpose="link") >= PER_CONVERSATION:
        raise LinkRefused(ASKED_OFTEN)
    if sending.sent_since(now - ADDRESS_WINDOW, address=address,
                          purpose="link") >= PER_ADDRESS:
        raise LinkRefused(ADDRESS_OFTEN)


def _proven(conversation, channel, address):
    contact = conversation.contact
    return contact is not None and (contact.channel, contact.address) == (channel, address)


def _texts(conversation, channel, verify_token):
    """Return (subject, text, html) of the link's message, in the conversation's language."""
    # The texts say "within an hour": the lifetime of a verification link (VERIFY_LIFETIME).
    brand = conversation.brand
    context = {"brand": brand, "url": conversation_url(conversation),
               "verify_url": verify_token and verification_url(verify_token)}
    with force_locale(conversation.language):
        if channel == "sms":
            return None, render_template("reach/link_sms.txt", **context).strip(), None
        subject = _("Your conversation with %(brand)s", brand=brand.name)
        return (subject, render_template("reach/link.txt", **context),
                render_template("reach/link.html", **context))


def send_link(conversation):
    """Send the conversation's link to the address the customer saved on its page; return
    the notice. A press within a minute of the last is a retry: its notice, nothing sent.

    Raises LinkRefused when no address is saved, the brand cannot send on its channel, or the
    rate limits say enough.
    """
    channel, address = conversation.reach_channel, conversation.reach_address
    if not address:
        raise LinkRefused(NO_ADDRESS)
    if channel not in sending.channels(conversation.brand):
        raise LinkRefused(unavailable(conversation.brand, channel))
    _hold(conversation)
    now = utcnow()
    if (notice := _retried(conversation, address, now)) is not None:
        db.session.commit()  # nothing was changed: this lets the row go
        return notice
    try:
        _check_limits(conversation, address, now)
    except LinkRefused:
        db.session.commit()
        raise
    verify_token = None
    if not _proven(conversation, channel, address):
        verify_token = ContactVerification.issue(conversation, channel, address)[1]
    subject, text, html = _texts(conversation, channel, verify_token)
    # The verification link is committed with the notice: one is never kept without the other.
    notice = sending.send(conversation, "link", subject, text, html)
    if notice is None:  # the sender went away a moment ago
        db.session.rollback()
        raise LinkRefused(unavailable(conversation.brand, channel))
    return notice


def open_verification(token):
    """Return the verification link `token` opens, or None (unknown, used or expired)."""
    verification = ContactVerification.find(token)
    if verification is None or not verification.usable:
        return None
    if verification.conversation.erased_at is not None:
        return None
    return verification


def _find_contact(brand_id, channel, address):
    return db.session.scalar(db.select(Contact).filter_by(
        brand_id=brand_id, channel=channel, address=address))


def _verified(verification):
    """Spend the link, join its conversation to the brand's contact, commit; return it."""
    if not verification.use():  # another press was first
        db.session.rollback()
        raise LinkRefused(LINK_DEAD)
    conversation = verification.conversation
    # The contact is the brand's of the conversation the link was sent from.
    brand_id = conversation.brand_id
    contact = _find_contact(brand_id, verification.channel, verification.address)
    if contact is None:
        contact = Contact(brand_id=brand_id, channel=verification.channel,
                          address=verification.address, created_at=utcnow())
        db.session.add(contact)
    contact.verified_at = utcnow()
    conversation.contact = contact  # this conversation only: the others proved nothing
    db.session.commit()
    return conversation


def confirm(token, brand_id):
    """Verify the address of link `token` once, for its own brand; return its conversation.

    Raises LinkRefused for an unknown, used, expired or other brand's link (nothing changes).
    """
    verification = open_verification(token)
    if verification is None or brand_id != verification.brand_id \
            or brand_id != verification.conversation.brand_id:
        raise LinkRefused(LINK_DEAD)
    try:
        return _verified(verification)
    except IntegrityError:
        # Another conversation's link made the same contact a moment ago: this one was
        # undone, its link's use included, and is done again with that contact.
        db.session.rollback()
        return _verified(verification)
