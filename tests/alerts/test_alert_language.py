"""Alerts reach each person in their own language, else in their brand's."""
import pytest
from sqlalchemy import delete, select

from models import AlertTarget, Conversation, EscalationLevel, StaffMember, db

from ..inbox.staff import customer_journey
from ..receivers import wait_for

NEGATIVE_URGENT = "There is water pouring from the ceiling onto the bed, this is terrible"
# Words the Turkish catalogue already has; the alert's other texts follow as it grows.
WORDS = {"en": ("Urgent", "Negative", "staff reply"), "tr": ("Acil", "Olumsuz", "personel yanıtı")}


def member(name):
    return db.session.scalar(select(StaffMember).filter_by(email=f"{name}@demo.example"))


def hook(person, receiver):
    db.session.add(AlertTarget(brand_id=person.brand_id, staff_id=person.id, label="hook",
                               url=f"json://127.0.0.1:{receiver.port}/{person.id}"))
    db.session.commit()


def speak(demo, brand_language, person, language):
    demo.default_language, person.language = brand_language, language
    db.session.commit()


def opened(client, body):
    token = customer_journey(client, body)
    db.session.expire_all()
    return db.session.scalar(select(Conversation).filter_by(token=token))


@pytest.mark.parametrize("brand_language, own, expected", [
    ("en", "tr", "tr"), ("tr", "en", "en"), ("tr", None, "tr"), ("en", None, "en")])
def test_a_new_conversations_alert_is_in_the_persons_language(client, demo, http_receiver,
                                                              brand_language, own, expected):
    agent = member("agent")
    speak(demo, brand_language, agent, own)
    hook(agent, http_receiver)
    convo = opened(client, NEGATIVE_URGENT)  # nobody online: the team, the agent in it, hears
    assert (convo.urgency, convo.sentiment) == ("urgent", "negative")
    assert wait_for(lambda: http_receiver.requests)
    [alert] = http_receiver.json_bodies()
    urgent, negative, _awaited = WORDS[expected]
    other = WORDS["tr" if expected == "en" else "en"]
    assert f"{urgent} · {negative} · {convo.category.label(expected)}" in alert["message"]
    assert not any(word in alert["message"] for word in other[:2])
    assert f"/inbox/c/{convo.id}" in alert["message"]


@pytest.mark.parametrize("own, expected", [("tr", "tr"), ("en", "en"), (None, "tr")])
def test_an_escalation_alert_says_what_it_waited_for_in_the_persons_language(
        client, demo, http_receiver, own, expected):
    lead = member("lead")
    speak(demo, "tr", lead, own)
    db.session.execute(delete(EscalationLevel).filter_by(brand_id=demo.id))
    db.session.add(EscalationLevel(brand_id=demo.id, position=0, waits_for="reply",
                                   after_seconds=1, urgent_after_seconds=1, action="alert",
                                   target_kind="role", target_value="lead"))
    db.session.commit()
    hook(lead, http_receiver)
    convo = opened(client, "Could we have an extra blanket?")

    def escalations():
        return [b for b in http_receiver.json_bodies() if "/inbox/c/" in b["message"]
                and WORDS[expected][2] in b["title"]]
    assert wait_for(escalations, seconds=10), http_receiver.json_bodies()
    [alert] = escalations()
    assert f"/inbox/c/{convo.id}" in alert["message"]
    assert WORDS["tr" if expected == "en" else "en"][2] not in alert["title"]
