"""Branch-scoping test helpers: limit someone to places, start conversations, watch alerts."""
from sqlalchemy import select

from models import AlertTarget, Conversation, OutboxEvent, db

from ..receivers import wait_for
from .staff import form_values, soup


def limit(member, *touchpoints):
    """Let `member` work only `touchpoints` (the admin's staff page writes the same rows)."""
    member.touchpoints = list(touchpoints)
    db.session.commit()


def start_at(client, place, body):
    """A customer writes at `place` (a touchpoint slug); return the stored conversation."""
    page = client.get(f"/b/demo/{place}/help")
    form = soup(page).select_one("form")
    started = client.post(f"/b/demo/{place}/help", data=form_values(form) | {"body": body})
    assert started.status_code == 303, started.text
    db.session.expire_all()
    token = started.headers["Location"].rsplit("/", 1)[1]
    return db.session.scalar(select(Conversation).filter_by(token=token))


def hook(member, receiver):
    name = member.email.split("@")[0]
    db.session.add(AlertTarget(brand_id=member.brand_id, staff_id=member.id, label=name,
                               url=f"json://127.0.0.1:{receiver.port}/{name}"))
    db.session.commit()


def dispatched(kind, conversation):
    """Wait until the outbox events of `kind` about `conversation` have been fully handled."""
    def done():
        db.session.expire_all()
        stamps = db.session.scalars(select(OutboxEvent.dispatched_at).filter_by(
            kind=kind, conversation_id=conversation.id)).all()
        return stamps and all(stamps)
    assert wait_for(done), f"{kind} of conversation {conversation.id} was never dispatched"


def named(people):
    return sorted(person.email.split("@")[0] for person in people)


def alerted(receiver):
    return sorted(r["path"].lstrip("/") for r in receiver.requests)
