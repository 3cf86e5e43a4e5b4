"""The inbox list and a conversation: reply, note, assign, transfer, resolve, reopen, tags."""
from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import transcript
from app.core.forms import ActionForm
from app.core.rendering import page_or_fragment, see_other, wants_fragment
from app.core.validators import ID_MAX, bounded_id
from app.extensions import login_manager
from app.inbox import bp, service
from app.inbox.context import conversation_context, insert_canned_form, transfer_form
from app.inbox.forms import NoteForm, ReplyForm, TagForm
from models import transcript as log
from models.conversation import STATUSES

PUBLIC_ENDPOINTS = ("inbox.login", "inbox.set_password", "inbox.forgot_password",
                    "inbox.accept_invitation")


@bp.before_request
def require_login():
    """Every inbox page needs a signed-in member of staff; signing in itself does not."""
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()


def _choice(name, allowed):
    value = request.args.get(name, allowed[0])
    return value if value in allowed else allowed[0]


@bp.get("/")
def index():
    view, status = _choice("view", service.VIEWS), _choice("status", STATUSES)
    conversations = service.inbox(current_user, view, status)
    return page_or_fragment(
        "inbox/index.html", "inbox/_main.html", view=view, status_filter=status,
        conversations=conversations, counts=service.inbox_counts(current_user),
        openings=log.openings([c.id for c in conversations]))


@bp.get("/counts")
def counts():
    """Return the filters with the person's counts (a live list update asks for them)."""
    view, status = _choice("view", service.VIEWS), _choice("status", STATUSES)
    return render_template("inbox/_filters.html", view=view, status_filter=status,
                           counts=service.inbox_counts(current_user))


def _show(conversation, fragment, status=200, **forms):
    """Render the conversation page, or `fragment` for htmx."""
    return page_or_fragment("inbox/conversation.html", fragment, status=status,
                            **conversation_context(conversation, current_user, **forms))


def _done(conversation, fragment, **forms):
    if wants_fragment():
        return _show(conversation, fragment, **forms)
    return see_other(url_for("inbox.conversation", conversation_id=conversation.id))


def _refuse(conversation, message):
    return _show(conversation, "inbox/_header.html", status=422, action_error=message)


@bp.get("/c/<int:conversation_id>")
def conversation(conversation_id):
    conversation = service.conversation_for(current_user, conversation_id)
    service.mark_seen(conversation)
    return _show(conversation, "inbox/_thread.html")


@bp.get("/c/<int:conversation_id>/messages")
def messages(conversation_id):
    """Return what the thread lacks after its cursor (`after`), or 204 when that is nothing."""
    conversation = service.conversation_for(current_user, conversation_id)
    news = transcript.since(conversation, request.args.get("after", 0, type=bounded_id) or 0,
                            internal=True)
    if not news["replace"] and not news["messages"]:
        return "", 204
    service.mark_seen(conversation)
    return render_template("inbox/_append.html", conversation=conversation,
                           brand=conversation.brand, **news)


@bp.get("/c/<int:conversation_id>/earlier")
def earlier(conversation_id):
    """Show the messages before `before`: a fragment for the htmx swap, else a page."""
    conversation = service.conversation_for(current_user, conversation_id)
    before = request.args.get("before", type=bounded_id) or ID_MAX
    return page_or_fragment("inbox/earlier.html", "inbox/_earlier_items.html",
                            conversation=conversation, brand=conversation.brand,
                            **transcript.earlier(conversation, before, internal=True))


@bp.post("/c/<int:conversation_id>/reply")
def reply(conversation_id):
    conversation = service.conversation_for(current_user, conversation_id)
    form = ReplyForm()
    if conversation.status == "resolved":
        form.body.errors = [_("This conversation is resolved: reopen it to reply.")]
    elif form.validate_on_submit():
        service.reply(conversation, current_user, form.body.data, form.client_id.data or None)
        return _done(conversation, "inbox/_reply_posted.html")
    return _show(conversation, "inbox/_reply_form.html", status=422, reply_form=form)


@bp.post("/c/<int:conversation_id>/note")
def note(conversation_id):
    conversation = service.conversation_for(current_user, conversation_id)
    form = NoteForm()
    if form.validate_on_submit():
        service.add_note(conversation, current_user, form.note.data)
        return _done(conversation, "inbox/_note_posted.html")
    return _show(conversation, "inbox/_note_form.html", status=422, note_form=form)


@bp.post("/c/<int:conversation_id>/assign")
def assign_to_me(conversation_id):
    conversation = service.conversation_for(current_user, conversation_id)
    if not ActionForm().validate_on_submit():
        return _refuse(conversation, _("The form expired: please try again."))
    if conversation.status == "resolved":
        return _refuse(conversation, _("This conversation is resolved: reopen it first."))
    service.assign(conversation, current_user, current_user)
    return _done(conversation, "inbox/_changed.html")


@bp.post("/c/<int:conversation_id>/transfer")
def transfer(conversation_id):
    conversation = service.conversation_for(current_user, conversation_id)
    # Only teammates who may see the conversation are choices, so only they are accepted.
    form = transfer_form(conversation, current_user, formdata=request.form)
    if conversation.status == "resolved":
        return _refuse(conversation, _("This conversation is resolved: reopen it first."))
    if not form.validate_on_submit():
        errors = form.target.errors or form.errors.get(
            "csrf_token", [_("Please choose a teammate or a team.")])
        return _refuse(conversation, " ".join(str(error) for error in errors))
    kind, target_id = form.target.data.split(":")
    if kind == "staff":
        service.assign(conversation, current_user, service.staff_for(current_user, int(target_id)))
    else:
        service.transfer_to_team(conversation, current_user,
                                 service.team_for(current_user, int(target_id)))
    return _done(conversation, "inbox/_changed.html")


@bp.post("/c/<int:conversation_id>/<any(resolve, reopen):action>")
def set_status(conversation_id, action):
    conversation = service.conversation_for(current_user, conversation_id)
    if not ActionForm().validate_on_submit():
        return _refuse(conversation, _("The form expired: please try again."))
    if (action == "resolve") == (conversation.status == "resolved"):
        return _refuse(conversation, _("This conversation is already resolved.")
                       if action == "resolve" else _("This conversation is already open."))
    getattr(service, action)(conversation, current_user)
    return _done(conversation, "inbox/_changed.html")


@bp.post("/c/<int:conversation_id>/tags")
def correct_tag(conversation_id):
    conversation = service.conversation_for(current_user, conversation_id)
    form = TagForm()
    allowed = service.tag_choices(conversation)
    if not form.validate_on_submit() or form.value.data not in allowed.get(form.field.data, []):
        return _refuse(conversation, _("That tag value is not one of the choices."))
    service.correct_tag(conversation, current_user, form.field.data, form.value.data)
    return _done(conversation, "inbox/_changed.html")


@bp.post("/c/<int:conversation_id>/canned")
def insert_canned(conversation_id):
    """Put a canned reply into the reply box (a page without script gets the whole page)."""
    conversation = service.conversation_for(current_user, conversation_id)
    form = insert_canned_form(current_user)
    if not form.validate_on_submit():
        reply_form = ReplyForm(formdata=None, body=form.body.data, client_id=form.client_id.data)
        reply_form.body.errors = [str(e) for e in form.canned.errors or form.body.errors] or [
            _("The form expired: please try again.")]
        return _show(conversation, "inbox/_reply_form.html", status=422, reply_form=reply_form)
    canned = service.canned_for(current_user, form.canned.data)
    body = "\n\n".join(part for part in (form.body.data, canned.body) if part)
    reply_form = ReplyForm(formdata=None, body=body, client_id=form.client_id.data)
    return _show(conversation, "inbox/_reply_form.html", reply_form=reply_form)
