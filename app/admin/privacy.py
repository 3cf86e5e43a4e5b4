"""A customer's data on request (admins): download it as JSON, or erase it after a typed
confirmation. Another brand's ids, and conversations the admin may not see, are 404s."""
import json

from flask import Response, abort, flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import ValidationError

from app.admin import bp
from app.core.forms import Form
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import conversation_for, sees
from app.core.security import no_store
from app.core.validators import strip
from app.reach import contacts, privacy
from models import Conversation, db

CONFIRM_WORD = "ERASE"


def _typed_word(form, field):
    if (field.data or "").upper() != CONFIRM_WORD:
        raise ValidationError(_l("Nothing was erased: type ERASE in the box to confirm."))


# The only form of these pages: kept beside them rather than with the brand's settings forms.
class ErasureForm(Form):
    confirm = StringField(_l("Type ERASE to confirm"), filters=[strip], validators=[_typed_word])


def _contact(contact_id):
    """Return the brand's contact if the admin may see all its conversations, else 404."""
    try:
        contact = contacts.contact_of(current_user.brand_id, contact_id)
    except LookupError:
        abort(404)
    theirs = db.session.scalars(db.select(Conversation).filter_by(
        brand_id=contact.brand_id, contact_id=contact.id))
    if not all(sees(current_user, conversation) for conversation in theirs):
        abort(404)  # an admin limited to some places exports no one else's words
    return contact


def _download(document, name):
    no_store()
    response = Response(json.dumps(document, ensure_ascii=False, indent=2),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/privacy/conversations/<int:conversation_id>.json")
@requires("privacy.manage")
def export_conversation(conversation_id):
    """Download everything Kulak holds on one conversation."""
    conversation = conversation_for(current_user, conversation_id)
    return _download(privacy.export_conversation(current_user.brand_id, conversation.id),
                     f"kulak-conversation-{conversation.id}.json")


@bp.get("/privacy/contacts/<int:contact_id>.json")
@requires("privacy.manage")
def export_contact(contact_id):
    """Download everything Kulak holds on one contact and its conversations."""
    contact = _contact(contact_id)
    return _download(privacy.export_contact(current_user.brand_id, contact.id),
                     f"kulak-contact-{contact.id}.json")


def _confirm_page(form, subject, **context):
    return render_template("admin/privacy_confirm.html", form=form, subject=subject,
                           **context), 422 if form.errors else 200


@bp.route("/privacy/conversations/<int:conversation_id>/erase", methods=["GET", "POST"])
@requires("privacy.manage")
def erase_conversation(conversation_id):
    """Ask for the typed word; then erase the conversation's personal data."""
    conversation, form = conversation_for(current_user, conversation_id), ErasureForm()
    if form.validate_on_submit():
        privacy.erase_conversation(current_user.brand_id, conversation.id, current_user.id)
        flash(_("The personal data of this conversation was erased; its figures stay in the "
                "reports."))
        return see_other(url_for("inbox.conversation", conversation_id=conversation.id))
    return _confirm_page(form, "conversation", conversation=conversation)


@bp.route("/privacy/contacts/<int:contact_id>/erase", methods=["GET", "POST"])
@requires("privacy.manage")
def erase_contact(contact_id):
    """Ask for the typed word; then erase the contact and all its conversations' data."""
    contact, form = _contact(contact_id), ErasureForm()
    if form.validate_on_submit():
        erasure = privacy.erase_contact(current_user.brand_id, contact.id, current_user.id)
        flash(ngettext("The contact was erased, with the personal data of its %(num)d "
                       "conversation.",
                       "The contact was erased, with the personal data of its %(num)d "
                       "conversations.", erasure.conversations))
        return see_other(url_for("admin.index"))
    count = db.session.scalar(db.select(db.func.count(Conversation.id)).filter_by(
        brand_id=contact.brand_id, contact_id=contact.id))
    return _confirm_page(form, "contact", contact=contact, count=count)
