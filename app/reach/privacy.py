"""A customer's data on request: everything Kulak holds on a conversation or a contact, as
a JSON-ready document, and its erasure. Erasure keeps what reports count (status, times, tag
labels, CSAT and NPS numbers, how many messages) and removes every copy of what anybody wrote
and of who the customer is: bodies, names, addresses, free-text answers, rating comments, tag
corrections, why-terms, outbox payloads, delivery errors, mails and SMS to the customer,
verification links, the API's stored answers. The log (Erasure) never holds the content."""
import json

from sqlalchemy import func, update

from app import events
from app.core.payloads import stamp
from app.reach.contacts import contact_of
from models import (
    AlertDelivery,
    Answer,
    ApiToken,
    ContactVerification,
    Conversation,
    CustomerNotice,
    Erasure,
    IdempotentRequest,
    Message,
    OutboxEvent,
    OutgoingMail,
    Question,
    Rating,
    SurveyResponse,
    TagCorrection,
    WebhookDelivery,
    db,
)
from models.common import utcnow
from models.conversation import new_token

ERASED = "[erased]"
# Why-terms that name the context (classifier/context.py), not words of the message.
CONTEXT_TERMS = ("touchpoint:", "picked:", "survey:")
# Outbox payload entries that are codes the alert text reads; other text is erased.
PAYLOAD_CODES = ("waits_for", "action")
CUSTOMER_MAIL = ("transcript", "replies")
# A text this long found inside an API answer is a copy of it; shorter ones ("ok") are not.
QUOTED_MIN = 12


class ConversationNotFound(LookupError):
    """The brand has no conversation with that id (another brand's looks absent)."""


def _conversation(brand_id, conversation_id):
    found = db.session.get(Conversation, conversation_id) \
        if isinstance(conversation_id, int) else None
    if found is None or found.brand_id != brand_id:
        raise ConversationNotFound(conversation_id)
    return found


def _rows(model, *where, order=None):
    """Return the rows of `model` that match, in order of their id (or `order`)."""
    return db.session.scalars(db.select(model).where(*where).order_by(order or model.id)).all()


def _without_key(text, conversation):
    """Return `text` without the conversation's capability token (the export is a file)."""
    return text.replace(conversation.token, "[link]") if text else text


def _contact_data(contact):
    return {"id": contact.id, "channel": contact.channel, "address": contact.address,
            "name": contact.name, "note": contact.note, "created_at": stamp(contact.created_at),
            "verified_at": stamp(contact.verified_at)}


def _notice_data(notice, conversation):
    mail = db.session.get(OutgoingMail, notice.mail_id) if notice.mail_id else None
    return {"id": notice.id, "channel": notice.channel, "address": notice.address,
            "purpose": notice.purpose, "status": notice.status, "attempts": notice.attempts,
            "text": _without_key(notice.text, conversation),
            "created_at": stamp(notice.created_at), "sent_at": stamp(notice.sent_at),
            "mail": None if mail is None else {
                "to": mail.to_address, "subject": mail.subject, "status": mail.status,
                "text": _without_key(mail.text, conversation),
                "created_at": stamp(mail.created_at), "sent_at": stamp(mail.sent_at)}}


def _conversation_data(c):
    """Return everything Kulak holds on one conversation."""
    return {
        "id": c.id, "brand": c.brand.slug,
        "place": c.touchpoint.label if c.touchpoint else None, "status": c.status,
        "language": c.language, "category": c.category.slug if c.category else None,
        "picked_category": c.picked_category, "sentiment": c.sentiment, "urgency": c.urgency,
        "intent": c.intent, "tag_details": c.tag_details or {},
        "assignee": c.assignee.name if c.assignee else None,
        "team": c.team.name if c.team else None,
        "customer_name": c.customer_name, "customer_contact": c.customer_contact,
        "reach_channel": c.reach_channel, "reach_address": c.reach_address,
        "reach_replies": c.reach_replies, "contact_id": c.contact_id,
        "csat": c.csat, "nps": c.nps, "escalated_level": c.escalated_level,
        "resolved_count": c.resolved_count,
        **{f"{name}_at": stamp(getattr(c, f"{name}_at")) for name in (
            "created", "last_message", "updated", "first_response", "resolved", "erased")},
        "messages": [{"id": m.id, "author": m.author_kind, "internal": bool(m.internal),
                      "staff": m.staff.name if m.staff else None, "body": m.body,
                      "created_at": stamp(m.created_at)} for m in c.messages_after(0, True)],
        "survey_responses": [{
            "survey": r.survey.name, "language": r.language, "created_at": stamp(r.created_at),
            "answers": [{"question": a.question.text(r.language), "kind": a.question.kind,
                         "number": a.number, "text": a.text} for a in r.answers]}
            for r in c.survey_responses],
        "ratings": [{"round": r.round, "csat": r.csat, "nps": r.nps, "comment": r.comment,
                     "created_at": stamp(r.created_at), "updated_at": stamp(r.updated_at)}
                    for r in _rows(Rating, Rating.conversation_id == c.id, order=Rating.round)],
        "tag_corrections": [{"field": t.field, "old_value": t.old_value,
                             "new_value": t.new_value, "text": t.text,
                             "created_at": stamp(t.created_at)}
                            for t in _rows(TagCorrection, TagCorrection.conversation_id == c.id)],
        "customer_notices": [_notice_data(n, c) for n in _rows(
            CustomerNotice, CustomerNotice.conversation_id == c.id)],
        "contact_verifications": [{"channel": v.channel, "address": v.address,
                                   "created_at": stamp(v.created_at),
                                   "expires_at": stamp(v.expires_at),
                                   "used_at": stamp(v.used_at)} for v in _rows(
            ContactVerification, ContactVerification.conversation_id == c.id)],
    }


def export_conversation(brand_id, conversation_id):
    """Return everything Kulak holds on one of the brand's conversations, ready for JSON."""
    conversation = _conversation(brand_id, conversation_id)
    return {"exported_at": stamp(utcnow()), "conversation": _conversation_data(conversation),
            "contact": _contact_data(conversation.contact) if conversation.contact else None}


def export_contact(brand_id, contact_id):
    """Return everything Kulak holds on one of the brand's contacts and its conversations."""
    contact = contact_of(brand_id, contact_id)
    conversations = _rows(Conversation, Conversation.brand_id == brand_id,
                          Conversation.contact_id == contact.id)
    return {"exported_at": stamp(utcnow()), "contact": _contact_data(contact),
            "conversations": [_conversation_data(c) for c in conversations]}


def _without_words(tag_details):
    """Return the tag details with only the why-terms that quote no word of a message."""
    return {field: {**detail, "why": [term for term in detail["why"] or ()
                                      if str(term).startswith(CONTEXT_TERMS)]}
            if isinstance(detail, dict) and "why" in detail else detail
            for field, detail in (tag_details or {}).items()}


def _figure(value):
    """True for a number, a flag, nothing, or a list of those (ids): no text anybody wrote."""
    if isinstance(value, list):
        return all(_figure(item) for item in value)
    return value is None or isinstance(value, int | float | bool)


def _codes_only(payload):
    """Return an outbox payload with its figures and codes, and no other text."""
    return {key: value if key in PAYLOAD_CODES or _figure(value) else ERASED
            for key, value in (payload or {}).items()}


def _scrub_notices(notices):
    """Erase what was sent to the customer and to where (unsent ones never go); return the
    condition that finds their mails."""
    for notice in notices:
        notice.address, notice.text, notice.last_error = "", None, None
        if notice.status in ("queued", "sending"):
            notice.status = "failed"
    mail_ids = [notice.mail_id for notice in notices if notice.mail_id is not None]
    return OutgoingMail.id.in_(mail_ids)


def _scrub_mails(brand_id, *conditions):
    for mail in _rows(OutgoingMail, OutgoingMail.brand_id == brand_id, db.or_(*conditions)):
        mail.to_address, mail.subject, mail.text = "", ERASED, ERASED
        mail.html = mail.last_error = None
        if mail.status in ("queued", "sending"):
            mail.status = "failed"


def _close_verifications(condition):
    db.session.execute(update(ContactVerification).where(condition).values(
        address="", used_at=func.coalesce(ContactVerification.used_at, utcnow())))


def _erase(conversation):
    """Erase one conversation's personal data in the session; return the texts it removed."""
    cid = conversation.id
    texts = set(db.session.scalars(db.select(Message.body).filter_by(conversation_id=cid)))
    texts |= {conversation.customer_name, conversation.customer_contact,
              conversation.reach_address}
    db.session.execute(update(Message).where(Message.conversation_id == cid)
                       .values(body=ERASED))
    responses = db.select(SurveyResponse.id).where(SurveyResponse.conversation_id == cid)
    # Choice answers keep their value (one of the question's own), which reports count.
    db.session.execute(update(Answer).where(
        Answer.response_id.in_(responses),
        Answer.question_id.in_(db.select(Question.id).where(Question.kind != "choice")))
        .values(text=None))
    db.session.execute(update(Rating).where(Rating.conversation_id == cid).values(comment=None))
    # A labelled example without its text teaches the model nothing but noise: it goes.
    db.session.execute(db.delete(TagCorrection).where(TagCorrection.conversation_id == cid))
    event_ids = db.select(OutboxEvent.id).where(OutboxEvent.conversation_id == cid)
    for event in _rows(OutboxEvent, OutboxEvent.conversation_id == cid):
        event.payload = _codes_only(event.payload)
    db.session.execute(update(AlertDelivery).where(AlertDelivery.event_id.in_(event_ids))
                       .values(detail=None))
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.event_id.in_(event_ids))
                       .values(last_error=None))
    notified = _scrub_notices(_rows(CustomerNotice, CustomerNotice.conversation_id == cid))
    # Mail to the customer carries the conversation's link: found by it as well.
    _scrub_mails(conversation.brand_id, notified, db.and_(
        OutgoingMail.purpose.in_(CUSTOMER_MAIL), OutgoingMail.text.contains(conversation.token)))
    _close_verifications(ContactVerification.conversation_id == cid)
    conversation.customer_name = conversation.customer_contact = None
    conversation.reach_channel = conversation.reach_address = None
    conversation.contact, conversation.contact_id = None, None
    conversation.reach_replies, conversation.away_due_at = False, None
    conversation.tag_details = _without_words(conversation.tag_details)
    # The old link (in mails, on the customer's phone, in a browser's history) opens nothing.
    conversation.token = new_token()
    conversation.erased_at = conversation.erased_at or utcnow()
    return texts


def _quoted(value, texts):
    """Return a JSON value with every string that quotes one of `texts` erased."""
    if isinstance(value, dict):
        return {key: _quoted(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_quoted(item, texts) for item in value]
    return ERASED if isinstance(value, str) and any(t in value for t in texts) else value


def _scrub_api_answers(brand_id, message_ids, texts):
    """Erase the texts from the API's stored answers (a replayed POST returns them)."""
    texts = {text for text in texts if text and text != ERASED and len(text) >= QUOTED_MIN}
    needles = {json.dumps(text)[1:-1] for text in texts}
    tokens = db.select(ApiToken.id).where(ApiToken.brand_id == brand_id)
    for row in _rows(IdempotentRequest, IdempotentRequest.token_id.in_(tokens),
                     IdempotentRequest.body.is_not(None)):
        try:
            document = json.loads(row.body)
        except ValueError:
            document = None
        # A message posted through the API is answered with that message (payloads).
        if isinstance(document, dict) and document.get("id") in message_ids \
                and "author" in document:
            document = {**document, "body": ERASED}
        elif not any(needle in row.body for needle in needles):
            continue
        row.body = json.dumps(_quoted(document, texts), separators=(",", ":"))


def _finish(brand_id, staff_id, subject, subject_id, conversations, texts):
    message_ids = set(db.session.scalars(db.select(Message.id).where(
        Message.conversation_id.in_([c.id for c in conversations]))))
    _scrub_api_answers(brand_id, message_ids, texts)
    erasure = Erasure(brand_id=brand_id, staff_id=staff_id, subject=subject,
                      subject_id=subject_id, conversations=len(conversations),
                      erased_at=utcnow())
    db.session.add(erasure)
    db.session.commit()
    for conversation in conversations:  # open staff pages redraw without the erased text
        events.conversation_changed.send(conversation)
    return erasure


def erase_conversation(brand_id, conversation_id, staff_id):
    """Erase the personal data of one of the brand's conversations; return the Erasure.

    Raises ConversationNotFound for an id the brand has no conversation with."""
    conversation = _conversation(brand_id, conversation_id)
    texts = _erase(conversation)
    return _finish(brand_id, staff_id, "conversation", conversation.id, [conversation], texts)


def erase_contact(brand_id, contact_id, staff_id):
    """Erase a contact: the personal data of all its conversations, then the contact itself.

    Raises ContactNotFound (a LookupError) for an id the brand has no contact with."""
    contact = contact_of(brand_id, contact_id)
    conversations = _rows(Conversation, Conversation.brand_id == brand_id,
                          Conversation.contact_id == contact.id)
    texts = {contact.name, contact.note, contact.address}
    for conversation in conversations:
        texts |= _erase(conversation)
    # What was sent to the address, and the links that proved it, on any conversation.
    notified = _scrub_notices(_rows(CustomerNotice, CustomerNotice.brand_id == brand_id,
                                    CustomerNotice.address == contact.address))
    _scrub_mails(brand_id, notified, db.and_(OutgoingMail.purpose.in_(CUSTOMER_MAIL),
                                          OutgoingMail.to_address == contact.address))
    _close_verifications(db.and_(ContactVerification.brand_id == brand_id,
                                 ContactVerification.address == contact.address))
    db.session.flush()  # no conversation points at the contact any more
    db.session.delete(contact)
    return _finish(brand_id, staff_id, "contact", contact_id, conversations, texts)
