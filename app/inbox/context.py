"""What the conversation page and its fragments show, gathered in one place."""
import uuid

from flask_babel import get_locale
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app.core import transcript
from app.core.forms import ActionForm
from app.core.scoping import who_may_hold
from app.inbox import service
from app.inbox.forms import (
    ContactForm,
    InsertCannedForm,
    NoteForm,
    ReplyForm,
    TagForm,
    TransferForm,
)
from app.reach import contacts
from models import CannedReply, StaffMember, Team, db


def transfer_choices(conversation, staff):
    """Return the teammates `conversation` may be given to, then the brand's teams."""
    # Their touchpoints come along: one query for everyone, not one per person.
    teammates = who_may_hold(conversation, db.session.scalars(db.select(StaffMember).filter_by(
        brand_id=staff.brand_id, active=True).options(selectinload(StaffMember.touchpoints))
        .order_by(StaffMember.name)))
    teams = db.session.scalars(db.select(Team).filter_by(brand_id=staff.brand_id)
                               .order_by(Team.name))
    return ([SelectChoice(f"staff:{s.id}", s.name) for s in teammates]
            + [SelectChoice(f"team:{t.id}", t.name) for t in teams])


def canned_choices(staff):
    return [SelectChoice(c.id, c.title) for c in db.session.scalars(
        db.select(CannedReply).filter_by(brand_id=staff.brand_id).order_by(CannedReply.title))]


def transfer_form(conversation, staff, formdata=None):
    """Return the transfer form; its choices are what the server accepts, too."""
    form = TransferForm(formdata=formdata) if formdata is not None else TransferForm()
    form.target.choices = transfer_choices(conversation, staff)
    return form


def insert_canned_form(staff, **kwargs):
    form = InsertCannedForm(**kwargs)
    form.canned.choices = canned_choices(staff)
    return form


def contact_form(conversation):
    """Return the contact form filled with what staff know of the conversation's contact."""
    contact = conversation.contact
    return ContactForm(formdata=None, name=contact.name if contact else None,
                       note=contact.note if contact else None)


def header_context(conversation, staff, **forms):
    """Return what the conversation's header shows: its status line and the actions' forms."""
    return {
        "conversation": conversation, "brand": conversation.brand, "staff": staff,
        "tag_options": service.tag_options(conversation, str(get_locale())),
        "transfer_form": forms.get("transfer_form") or transfer_form(
            conversation, staff, formdata=None),
        "action_form": ActionForm(formdata=None), "tag_form": TagForm(formdata=None),
        "action_error": forms.get("action_error"),
    }


def conversation_context(conversation, staff, **forms):
    """Return the template context of a conversation, with fresh forms where none are given."""
    return {
        **header_context(conversation, staff, **forms),
        **transcript.page(conversation, internal=True),
        "reply_form": forms.get("reply_form") or ReplyForm(
            formdata=None, client_id=uuid.uuid4().hex),
        "note_form": forms.get("note_form") or NoteForm(formdata=None),
        "canned_form": insert_canned_form(staff, formdata=None),
        # The verified contact only: what the customer typed joins them to nobody.
        "contact": conversation.contact,
        "earlier": contacts.earlier_conversations(conversation, staff, str(get_locale())),
        "contact_form": forms.get("contact_form") or contact_form(conversation),
    }
