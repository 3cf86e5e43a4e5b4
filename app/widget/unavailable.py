"""Customer answers while the database is down: what they typed comes back in the same form,
to send again. Nothing here may read the database: it is what just failed."""
import threading
import uuid
from collections import OrderedDict
from types import SimpleNamespace

from flask import g, request
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core import outage
from app.core.rendering import page_or_fragment
from app.core.security import allow_framing_by
from app.widget import bp
from app.widget.forms import HelpForm, MessageForm

# The embed origins each brand (by slug) and each conversation (by token) was last served
# with: the brand cannot be read during the outage, yet its answer must still show inside that
# brand's iframe, and only that brand's. Bounded: the oldest are forgotten first.
FRAMING_REMEMBERED = 10_000
_framing = OrderedDict()
_framing_lock = threading.Lock()


def _framing_key():
    args = request.view_args or {}
    return args.get("token") or args.get("brand_slug")


@bp.after_request
def remember_framing(response):
    sources, key = g.get("frame_ancestors"), _framing_key()
    if sources and key and not outage.noticed():
        with _framing_lock:
            _framing[key] = sources
            _framing.move_to_end(key)
            while len(_framing) > FRAMING_REMEMBERED:
                _framing.popitem(last=False)
    return response


def _kept(form):
    """Keep the posted client id (a retry then cannot arrive twice), or give the form one."""
    if not form.client_id.data:
        form.client_id.data = uuid.uuid4().hex
    return form


def _not_sent(form_template, fragment=None, **context):
    return page_or_fragment(
        "widget/unavailable.html", fragment or "widget/unavailable.html", status=503,
        form_template=form_template, title=_("Not sent yet"),
        notice=_("We could not send your message just now. Nothing is lost: it is still "
                 "here. Please send it again in a few seconds."),
        embed=(request.view_args or {}).get("embed", False), **context)


def _first_message():
    # The categories cannot be read: the one chosen goes back as a hidden field.
    form = _kept(HelpForm([], str(get_locale())))
    return _not_sent("widget/_help_form.html", form=form)


def _message():
    token = request.view_args["token"]
    return _not_sent("widget/_message_form.html", "widget/_message_form.html",
                     form=_kept(MessageForm()), conversation=SimpleNamespace(token=token))


def _messages_frame():
    # Without script the list is a frame that reloads itself: it must go on reloading.
    return page_or_fragment("widget/messages_unavailable.html", "widget/messages_unavailable.html",
                            status=503, retry_after=outage.RETRY_AFTER_SECONDS)


@outage.answers_for("widget")
def customer_answer():
    """Answer a customer's post with their form, and let the brand's iframe show it."""
    allow_framing_by(_framing.get(_framing_key(), "'self'"))
    if request.endpoint == "widget.messages_frame":
        return _messages_frame()
    if request.method != "POST":
        return None
    if request.endpoint == "widget.conversation":
        return _message()
    # The entry page posts the first message itself when the place has no survey.
    if request.endpoint == "widget.help_page" or "body" in request.form:
        return _first_message()
    return None

