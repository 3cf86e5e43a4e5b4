"""One view of the customer: the brand's verified contact, what staff know of them, and their
other conversations.

Conversations are joined only through the verified contact (Conversation.contact_id), never
through the address a customer typed: two people who typed the same address on two pages have
proven nothing, and neither may read what the other wrote.
"""
from sqlalchemy.orm import selectinload

from app.core.scoping import conversation_scope, sees
from app.core.validators import strip, too_long
from models import Answer, Contact, Conversation, Rating, SurveyResponse, db
from models.common import NAME_MAX
from models.contact import NOTE_MAX

# A regular of many years lists this many; the page stays light.
EARLIER_MAX = 50


class ContactNotFound(LookupError):
    """The brand has no contact with that id (another brand's looks absent)."""


class ContactRefused(ValueError):
    """A name or note that cannot be kept, with the field and a message staff understand."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


def contact_of(brand_id, contact_id):
    """Return the brand's contact with `contact_id`, or raise ContactNotFound."""
    contact = db.session.get(Contact, contact_id) if isinstance(contact_id, int) else None
    if contact is None or contact.brand_id != brand_id:
        raise ContactNotFound(contact_id)
    return contact


def _answers(conversation, language):
    return [(answer.question.text(language), answer.display(language))
            for response in conversation.survey_responses for answer in response.answers]


def earlier_conversations(conversation, staff, language=None):
    """Return the contact's other conversations that `staff` may see, newest first (dicts)."""
    if conversation.contact_id is None:
        return []
    language = language or conversation.brand.default_language
    rows = db.session.scalars(
        db.select(Conversation).where(
            Conversation.contact_id == conversation.contact_id,
            Conversation.brand_id == conversation.brand_id, Conversation.id != conversation.id,
            conversation_scope(staff))
        .options(selectinload(Conversation.category), selectinload(Conversation.touchpoint),
                 selectinload(Conversation.survey_responses).selectinload(
                     SurveyResponse.answers).selectinload(Answer.question))
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
        .limit(EARLIER_MAX)).all()
    # The SQL scope already holds the rule; `sees` is its Python twin, asked once more so that
    # a change to one of them never shows someone a conversation they may not open.
    rows = [row for row in rows if sees(staff, row)]
    comments = _latest_comments([row.id for row in rows])
    return [{"id": row.id, "created_at": row.created_at, "status": row.status,
             "place": row.touchpoint.label if row.touchpoint else None,
             "category": row.category.label(language) if row.category else None,
             "csat": row.csat, "nps": row.nps, "comment": comments.get(row.id),
             "answers": _answers(row, language)} for row in rows]


def _latest_comments(conversation_ids):
    """Return {conversation id: the comment of its newest rating} for those that have one."""
    if not conversation_ids:
        return {}
    rows = db.session.execute(db.select(Rating.conversation_id, Rating.comment).where(
        Rating.conversation_id.in_(conversation_ids), Rating.comment.is_not(None))
        .order_by(Rating.round)).all()
    return dict(rows)  # the newest round comes last and wins


def update_contact(brand_id, contact_id, name, note):
    """Set the name and note staff keep on a contact (empty clears them); return the contact.

    Raises ContactNotFound for an id the brand has no contact with, ContactRefused for a name
    or note too long (nothing is changed then)."""
    contact = contact_of(brand_id, contact_id)
    name, note = strip(name or "") or None, strip(note or "") or None
    if name is not None and len(name) > NAME_MAX:
        raise ContactRefused("name", too_long(NAME_MAX, name))
    if note is not None and len(note) > NOTE_MAX:
        raise ContactRefused("note", too_long(NOTE_MAX, note))
    contact.name, contact.note = name, note
    db.session.commit()
    return contact
