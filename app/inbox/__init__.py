"""Staff side: login, the inbox, a conversation, notes, transfer, resolve, canned replies."""
from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

from app.inbox import (  # noqa: E402,F401
    alerts,
    auth,
    contacts,
    invitations,
    moved,
    profile,
    routes,
)


@bp.context_processor
def staff_page_context():
    from app.core.forms import ActionForm
    return {"logout_form": ActionForm(formdata=None)}


@bp.app_template_filter("waited")
def waited(since):
    """Say how long ago `since` was, as "4 min" or "2 h 5 min"."""
    from flask_babel import gettext as _

    from models.common import utcnow
    minutes = max(0, int((utcnow() - since).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(minutes)d min", minutes=minutes)


@bp.app_template_filter("reason")
def reason(term):
    """Say in words what drove a tag: a phrase of the message, or the context it came from."""
    from flask_babel import gettext as _
    kind, _colon, value = term.partition(":")
    if kind == "touchpoint" and value:
        return _("the place (%(kind)s)", kind=value)
    if kind == "picked" and value:
        return _("the topic the customer chose")
    if kind == "survey" and value:
        return _("the survey answers")
    return f"“{term}”"


@bp.app_template_global()
def tag_label(value):
    """Return a sentiment, urgency or intent value as staff read it."""
    from app.inbox.service import TAG_LABELS
    return str(TAG_LABELS.get(value, value))
