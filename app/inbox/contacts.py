"""The customer's contact on a conversation's page: the name and note staff keep on it."""
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.permissions import requires
from app.core.rendering import page_or_fragment, see_other, wants_fragment
from app.inbox import bp, service
from app.inbox.context import conversation_context
from app.inbox.forms import ContactForm
from app.reach import contacts


def _panel(conversation, status=200, **forms):
    return page_or_fragment("inbox/conversation.html", "inbox/_contact.html", status=status,
                            **conversation_context(conversation, current_user, **forms))


@bp.post("/c/<int:conversation_id>/contact")
@requires("contacts.edit")
def edit_contact(conversation_id):
    """Set the name and note of the verified contact of a conversation staff may see."""
    conversation = service.conversation_for(current_user, conversation_id)
    form = ContactForm()
    if conversation.contact_id is None:
        # Only a verified address is a contact: what was merely typed is nobody's record.
        form.name.errors = [_("This conversation has no verified contact to write on.")]
    elif form.validate_on_submit():
        try:
            contacts.update_contact(current_user.brand_id, conversation.contact_id,
                                    form.name.data, form.note.data)
        except contacts.ContactRefused as refused:
            form[refused.field].errors = [refused.message]
        else:
            if wants_fragment():
                return _panel(conversation)
            return see_other(url_for("inbox.conversation", conversation_id=conversation.id))
    return _panel(conversation, status=422, contact_form=form)
