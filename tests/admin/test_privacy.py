"""A customer's data on request: the admin exports it as JSON, or erases it from every table
(on SQLite and PostgreSQL) while the figures reports count stay."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.admin.setup import create_brand
from app.admin.webhooks import add_webhook
from app.inbox import service as inbox
from app.reach import privacy
from app.widget import satisfaction
from app.widget.service import start_conversation
from models import (
    AlertDelivery,
    AlertTarget,
    Answer,
    ApiToken,
    Contact,
    ContactVerification,
    Conversation,
    CustomerNotice,
    Erasure,
    Message,
    OutboxEvent,
    OutgoingMail,
    Question,
    Rating,
    StaffMember,
    Survey,
    SurveyResponse,
    Webhook,
    WebhookDelivery,
    db,
)
from models.common import utcnow

from ..inbox.staff import Staff, conversation, form_values, soup
from ..inbox.test_isolation import everything

# Every text a person wrote or typed holds the word: none may be left anywhere after erasure.
WORD = "quokka"
CUSTOMER = "The minibar smells of burnt quokka fur, please help"
REPLY = "Oktay brings a quokka-free minibar within minutes"
NOTE = "Guest told the night shift about her quokka allergy"
API_REPLY = "Voucher QUOKKA-5512 is on your bill as promised"
FREE_TEXT = "No feather pillows please, quokkaphobia"
COMMENT = "Slow but kind quokka service overall"
NAME = "Zeynep Quokkason"
ADDRESS = "zeynep.quokka@example.com"
PHONE = "+905550001234"
CONTACT_NAME = "Zeynep, the quokka regular"
CONTACT_NOTE = "Always asks for the quokka suite"
WHY = "burnt quokka"
# Where each of them is kept before the erasure: the test fails if a copy was never made.
COPIES = {
    CUSTOMER: {"message.body", "tag_correction.text", "webhook_delivery.last_error"},
    REPLY: {"message.body", "outgoing_mail.text", "customer_notice.text"},
    NOTE: {"message.body", "outbox_event.payload"},
    API_REPLY: {"message.body", "idempotent_request.body"},
    FREE_TEXT: {"answer.text"}, COMMENT: {"rating.comment"}, NAME: {"conversation.customer_name"},
    ADDRESS: {"conversation.customer_contact", "conversation.reach_address", "contact.address",
              "contact_verification.address", "customer_notice.address",
              "outgoing_mail.to_address", "alert_delivery.detail"},
    PHONE: {"customer_notice.address"}, CONTACT_NAME: {"contact.name"},
    CONTACT_NOTE: {"contact.note"}, WHY: {"conversation.tag_details"},
}
ROLES = ("agent@demo.example", "lead@demo.example", "manager@demo.example")


@pytest.fixture(autouse=True)
def no_jobs(monkeypatch):
    """Background jobs are queued nowhere: no thread writes while a test reads every table."""
    queued = []
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: queued.append(args))
    monkeypatch.setattr(jobs, "enqueue_at", lambda *args, **kwargs: queued.append(args))
    return queued


def member(email):
    return db.session.scalar(select(StaffMember).filter_by(email=email))


def found(text):
    """Every table.column of the database whose value holds `text` (any case)."""
    db.session.expire_all()
    text, where = text.lower(), set()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            for column, value in row._mapping.items():
                if value is not None and text in str(value).lower():
                    where.add(f"{table.name}.{column}")
    return where


def story(app, brand):
    """A conversation with a copy of its text and its customer in every table that keeps one."""
    agent, admin = member("agent@demo.example"), member("admin@demo.example")
    place = brand.touchpoints[0]
    add_webhook(brand, "https://crm.example/in", ["message.created", "conversation.resolved"])
    survey = Survey.for_touchpoint(brand)
    free = Question(survey_id=survey.id, position=9, kind="text", prompt={"en": "Anything else?"})
    db.session.add(free)
    db.session.flush()
    response = SurveyResponse(survey=survey, brand_id=brand.id, touchpoint_id=place.id, answers=[
        Answer(question=survey.questions[0], number=4), Answer(question=free, text=FREE_TEXT)])
    db.session.add(response)
    db.session.commit()
    convo, _created = start_conversation(brand, place, CUSTOMER, "en", name=NAME,
                                         contact=ADDRESS, survey_response=response)
    contact = Contact(brand_id=brand.id, channel="email", address=ADDRESS, name=CONTACT_NAME,
                      note=CONTACT_NOTE)
    db.session.add(contact)
    db.session.flush()
    convo.contact_id, convo.reach_channel, convo.reach_address = contact.id, "email", ADDRESS
    convo.tag_details = {**convo.tag_details, "intent": {
        "label": "complaint", "confidence": 0.9, "why": [WHY, "picked:cleanliness"]}}
    verification, _token = ContactVerification.issue(convo, "email", ADDRESS)
    verification.used_at = utcnow()
    db.session.commit()
    inbox.reply(convo, agent, REPLY)
    inbox.add_note(convo, agent, NOTE)
    plain = ApiToken.issue(brand.id, "CRM", False, admin.id)[1]
    db.session.commit()
    posted = app.test_client().post(
        f"/api/v1/conversations/{convo.id}/messages", json={"body": API_REPLY, "staff_id": agent.id},
        headers={"Authorization": f"Bearer {plain}", "Idempotency-Key": "crm-1"})
    assert posted.status_code == 201, posted.text
    inbox.correct_tag(convo, agent, "sentiment",
                      "neutral" if convo.sentiment == "negative" else "negative")
    link = f"http://kulak.test/c/{convo.token}"
    mail = OutgoingMail(brand_id=brand.id, purpose="replies", to_address=ADDRESS,
                        subject="New replies from Demo Hotel", text=f"{REPLY}\n\n{link}",
                        status="sent")
    db.session.add(mail)
    db.session.flush()
    # A payload, a delivery error and a failed alert that quote the customer (as a receiver's
    # answer or a future kind of event might): erased as well.
    event = OutboxEvent(brand_id=brand.id, conversation_id=convo.id, kind="conversation.escalated",
                        payload={"level": 1, "action": "alert", "staff_ids": [agent.id],
                                 "note": NOTE})
    target = AlertTarget(brand_id=brand.id, staff_id=agent.id, label="Pager",
                         url="json://127.0.0.1:9/pager")
    db.session.add_all([event, target, CustomerNotice(
        brand_id=brand.id, conversation_id=convo.id, channel="email", address=ADDRESS,
        purpose="replies", status="sent", mail_id=mail.id), CustomerNotice(
        brand_id=brand.id, conversation_id=convo.id, channel="sms", address=PHONE,
        purpose="link", status="queued", text=f"{REPLY} {link}")])
    db.session.flush()
    webhook_id = db.session.scalar(select(Webhook.id).filter_by(brand_id=brand.id))
    db.session.add_all([
        AlertDelivery(event_id=event.id, target_id=target.id, staff_id=agent.id,
                      status="failed", detail=f"could not deliver to {ADDRESS}"),
        WebhookDelivery(webhook_id=webhook_id, event_id=event.id, status="failed",
                        last_error=f"HTTP 500: {CUSTOMER}")])
    db.session.commit()
    inbox.resolve(convo, agent)
    satisfaction.rate(convo, csat=2, comment=COMMENT)
    return db.session.get(Conversation, convo.id), contact


def figures(conversation_id):
    """What reports count of a conversation: kept through its erasure."""
    db.session.expire_all()
    c = db.session.get(Conversation, conversation_id)
    return {"status": c.status, "csat": c.csat, "nps": c.nps, "sentiment": c.sentiment,
            "urgency": c.urgency, "intent": c.intent, "category_id": c.category_id,
            "touchpoint_id": c.touchpoint_id, "created_at": c.created_at,
            "first_response_at": c.first_response_at, "resolved_at": c.resolved_at,
            "resolved_count": c.resolved_count,
            "messages": db.session.scalar(select(db.func.count(Message.id)).filter_by(
                conversation_id=c.id)),
            "ratings": db.session.execute(select(Rating.round, Rating.csat).filter_by(
                conversation_id=c.id)).all(),
            "numbers": db.session.scalars(select(Answer.number).join(SurveyResponse).where(
                SurveyResponse.conversation_id == c.id).order_by(Answer.id)).all()}


def every_copy_is_there():
    for text, columns in COPIES.items():
        assert found(text) >= columns, text
    assert found(WORD) >= set().union(*COPIES.values())


def erase(admin, url, confirm="ERASE"):
    page = admin.get(url)
    assert page.status_code == 200
    return admin.submit(page, "form.card", confirm=confirm)


def test_erasing_a_conversation_leaves_no_copy_in_any_table_and_keeps_its_figures(app, demo):
    convo, _contact = story(app, demo)
    token, kept = convo.token, figures(convo.id)
    every_copy_is_there()
    assert found(token) >= {"conversation.token", "outgoing_mail.text", "customer_notice.text"}
    admin = Staff(app, "admin@demo.example")
    url = f"/admin/privacy/conversations/{convo.id}/erase"
    before = everything(db.session)
    refused = erase(admin, url, confirm="erase it")
    assert refused.status_code == 422
    assert soup(refused).select_one("#erase-error").get_text() == (
        "Nothing was erased: type ERASE in the box to confirm.")
    assert everything(db.session) == before
    erased = erase(admin, url)
    assert erased.status_code == 303 and erased.location == f"/inbox/c/{convo.id}"
    # The contact is a record of its own (erased with its own button): nothing else is left.
    assert found(WORD) == {"contact.address", "contact.name", "contact.note"}
    for text in set(COPIES) - {ADDRESS, CONTACT_NAME, CONTACT_NOTE}:
        assert found(text) == set(), text
    assert found(ADDRESS) == {"contact.address"} and found(token) == set()
    assert figures(convo.id) == kept
    after = db.session.get(Conversation, convo.id)
    assert after.erased_at is not None and after.contact_id is None
    assert set(db.session.scalars(select(Message.body).filter_by(conversation_id=convo.id))) == {
        privacy.ERASED}
    # The why-terms that named the context stay; those quoting the message went.
    assert after.tag_details["intent"]["why"] == ["picked:cleanliness"]
    assert db.session.scalars(select(CustomerNotice.status).order_by(CustomerNotice.id)).all() \
        == ["sent", "failed"]  # the queued SMS never goes
    log = db.session.scalars(select(Erasure)).one()
    assert (log.staff_id, log.subject, log.subject_id, log.conversations) == (
        admin.member.id, "conversation", convo.id, 1)
    assert utcnow() - log.erased_at < timedelta(minutes=1)
    shown = admin.get(erased.location)
    assert "The personal data of this conversation was erased" in shown.text
    assert WORD not in shown.text.lower()
    # Twice is harmless: nothing comes back, the figures stay, the log says so again.
    privacy.erase_conversation(demo.id, convo.id, admin.member.id)
    assert found(WORD) == {"contact.address", "contact.name", "contact.note"}
    assert figures(convo.id) == kept
    assert db.session.scalar(select(db.func.count(Erasure.id))) == 2


def test_erasing_a_contact_erases_all_its_conversations_and_the_contact(app, demo):
    convo, contact = story(app, demo)
    earlier = conversation(demo, "Last month: a quokka in the garden", minutes=40000,
                           contact_id=contact.id, customer_name=NAME, status="resolved")
    other = conversation(demo, "Someone else asks for towels", minutes=30)
    kept, contact_id = (figures(convo.id), figures(earlier.id)), contact.id
    every_copy_is_there()
    admin = Staff(app, "admin@demo.example")
    page = admin.get(f"/admin/privacy/contacts/{contact_id}/erase")
    assert ADDRESS in page.text and "its 2 conversations" in page.text
    erased = erase(admin, f"/admin/privacy/contacts/{contact_id}/erase")
    assert erased.status_code == 303 and erased.location == "/admin/"
    assert "with the personal data of its 2 conversations" in admin.get("/admin/").text
    assert found(WORD) == set() and found(PHONE) == set()
    assert db.session.scalars(select(Contact)).all() == []
    assert (figures(convo.id), figures(earlier.id)) == kept
    assert [c.erased_at is not None and c.contact_id is None
            for c in (db.session.get(Conversation, i) for i in (convo.id, earlier.id))] == [
        True, True]
    # Nobody else's conversation is touched.
    assert db.session.get(Conversation, other.id).erased_at is None
    assert found("Someone else asks for towels") == {"message.body"}
    log = db.session.scalars(select(Erasure)).one()
    assert (log.staff_id, log.subject, log.subject_id, log.conversations) == (
        admin.member.id, "contact", contact_id, 2)


def test_the_export_holds_everything_kulak_keeps_and_no_key(app, demo):
    convo, contact = story(app, demo)
    admin = Staff(app, "admin@demo.example")
    answer = admin.get(f"/admin/privacy/conversations/{convo.id}.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="kulak-conversation-{convo.id}.json"')
    assert answer.headers["Cache-Control"] == "no-store"
    document = json.loads(answer.text)
    data = document["conversation"]
    bodies = [m["body"] for m in data["messages"]]
    assert {CUSTOMER, REPLY, NOTE, API_REPLY} <= set(bodies)
    assert any(m["internal"] and m["body"] == NOTE for m in data["messages"])
    assert (data["customer_name"], data["customer_contact"], data["reach_address"]) == (
        NAME, ADDRESS, ADDRESS)
    assert FREE_TEXT in [a["text"] for r in data["survey_responses"] for a in r["answers"]]
    assert [(r["csat"], r["comment"]) for r in data["ratings"]] == [(2, COMMENT)]
    assert [t["text"] for t in data["tag_corrections"]] == [CUSTOMER]
    assert {n["address"] for n in data["customer_notices"]} == {ADDRESS, PHONE}
    assert [v["address"] for v in data["contact_verifications"]] == [ADDRESS]
    assert (document["contact"]["name"], document["contact"]["note"]) == (
        CONTACT_NAME, CONTACT_NOTE)
    assert convo.token not in answer.text  # the conversation's link is a key
    by_contact = admin.get(f"/admin/privacy/contacts/{contact.id}.json")
    assert by_contact.status_code == 200 and by_contact.headers["Cache-Control"] == "no-store"
    assert "attachment" in by_contact.headers["Content-Disposition"]
    assert [c["id"] for c in by_contact.get_json()["conversations"]] == [convo.id]
    assert by_contact.get_json()["contact"]["address"] == ADDRESS


@pytest.mark.parametrize("email", ROLES)
def test_only_admins_may_export_or_erase(app, demo, email):
    contact = Contact(brand_id=demo.id, channel="email", address=ADDRESS, name=CONTACT_NAME)
    db.session.add(contact)
    db.session.commit()
    convo = conversation(demo, CUSTOMER, contact_id=contact.id)
    person = Staff(app, email)
    before = everything(db.session)
    for base in (f"/admin/privacy/conversations/{convo.id}", f"/admin/privacy/contacts/{contact.id}"):
        assert person.get(f"{base}.json").status_code == 403
        assert person.get(f"{base}/erase").status_code == 403
        posted = person.client.post(f"{base}/erase", data={"csrf_token": person.token,
                                                          "confirm": "ERASE"})
        assert posted.status_code == 403
    assert everything(db.session) == before


def test_another_brands_conversation_and_contact_are_not_found(app, demo):
    brand, _owner, _token = create_brand("other-hotel", "Other Hotel", "owner@other.example")
    contact = Contact(brand_id=brand.id, channel="email", address=ADDRESS, name=CONTACT_NAME)
    db.session.add(contact)
    db.session.commit()
    convo = conversation(brand, CUSTOMER, contact_id=contact.id, touchpoint=brand.touchpoints[0])
    admin = Staff(app, "admin@demo.example")
    before = everything(db.session)
    for base in (f"/admin/privacy/conversations/{convo.id}", f"/admin/privacy/contacts/{contact.id}"):
        for answer in (admin.get(f"{base}.json"), admin.get(f"{base}/erase"),
                       admin.client.post(f"{base}/erase", data={"csrf_token": admin.token,
                                                               "confirm": "ERASE"})):
            assert answer.status_code == 404 and CUSTOMER not in answer.text
    for call in (lambda: privacy.export_conversation(demo.id, convo.id),
                 lambda: privacy.export_contact(demo.id, contact.id),
                 lambda: privacy.erase_conversation(demo.id, convo.id, admin.member.id),
                 lambda: privacy.erase_contact(demo.id, contact.id, admin.member.id)):
        with pytest.raises(LookupError):
            call()
    db.session.rollback()
    assert everything(db.session) == before


def test_without_the_csrf_token_nothing_is_erased(app, demo):
    convo = conversation(demo, CUSTOMER, customer_name=NAME)
    admin = Staff(app, "admin@demo.example")
    page = admin.get(f"/admin/privacy/conversations/{convo.id}/erase")
    data = form_values(soup(page).select_one("form.card")) | {"confirm": "ERASE"}
    for token in (None, "not-a-token"):
        sent = {k: v for k, v in (data | {"csrf_token": token}).items() if v is not None}
        refused = admin.client.post(f"/admin/privacy/conversations/{convo.id}/erase", data=sent)
        assert refused.status_code == 400
    assert found(WORD) == {"message.body", "conversation.customer_name"}
    assert db.session.scalars(select(Erasure)).all() == []
