"""The customer's way back: where to reach them, their conversation's link, replies on or off,
and the button that proves an address is theirs."""
from flask import g, make_response, render_template, request, url_for

from app.core.rendering import page_or_fragment, see_other, wants_fragment
from app.core.security import no_store
from app.extensions import limiter
from app.reach import link
from app.reach.addresses import AddressRefused
from app.widget import bp
from app.widget.reach_forms import ReachForm, RepliesForm
from app.widget.routes import _conversation_context, customer_post_limit, load_conversation


def _back(token):
    return url_for("widget.conversation", token=token, lang=request.values.get("lang") or None,
                   _anchor="reach")


def _answer(conversation, error=None, form=None):
    """Go back to the block without script; else the block, or the whole page with an error."""
    if error is None and not wants_fragment():
        return see_other(_back(conversation.token))
    return page_or_fragment("widget/conversation.html", "widget/_reach.html",
                            status=422 if error else 200, **_conversation_context(
                                conversation, reach_form=form if error else None,
                                reach_error=error, seen=not wants_fragment()))


def _first_error(form):
    return next(iter(form.errors.values()))[0]


@bp.route("/c/<token>/reach", methods=["GET", "POST"])
@limiter.limit(customer_post_limit, methods=["POST"])
def reach(token):
    """Keep where the customer asks to be reached, and whether replies they miss go there."""
    conversation = load_conversation(token)
    if request.method == "GET":
        return see_other(_back(token))
    form = ReachForm()
    if form.validate():
        try:
            link.set_address(conversation, form.channel.data or None, form.address.data)
            link.set_replies(conversation, form.replies.data)
        except AddressRefused as refused:
            form.address.errors.append(refused.message)  # shown at the box it is about
    return _answer(conversation, _first_error(form) if form.errors else None, form)


@bp.route("/c/<token>/reach/link", methods=["GET", "POST"])
@limiter.limit(customer_post_limit, methods=["POST"])
def reach_link(token):
    """Send the conversation's link to the saved address (never to one posted with this)."""
    conversation = load_conversation(token)
    if request.method == "GET":
        return see_other(_back(token))
    try:
        link.send_link(conversation)
    except link.LinkRefused as refused:
        return _answer(conversation, refused.message)
    return _answer(conversation)


@bp.route("/c/<token>/reach/replies", methods=["GET", "POST"])
@limiter.limit(customer_post_limit, methods=["POST"])
def reach_replies(token):
    """Turn on or off the replies they miss going to the saved address."""
    conversation = load_conversation(token)
    if request.method == "GET":
        return see_other(_back(token))
    form = RepliesForm()
    if not form.validate():
        return _answer(conversation, _first_error(form))
    link.set_replies(conversation, form.replies.data == "on")
    return _answer(conversation)


def _link_dead(message=link.LINK_DEAD):
    return make_response(render_template("widget/verify.html", verification=None,
                                         message=message), 410)


@bp.route("/v/<vtoken>", methods=["GET", "POST"])
@limiter.limit(customer_post_limit, methods=["POST"])
def verify(vtoken):
    """Ask to confirm the address; only the button's post does (mail scanners open links)."""
    # The link is a credential for an hour: no copy in any cache.
    no_store()
    verification = link.open_verification(vtoken)
    if verification is None:
        return _link_dead()
    conversation = verification.conversation
    g.conversation_language = conversation.language
    g.brand_language = conversation.brand.default_language
    if request.method == "GET":
        return render_template("widget/verify.html", verification=verification,
                               brand=conversation.brand)
    try:
        link.confirm(vtoken, conversation.brand_id)
    except link.LinkRefused as refused:
        return _link_dead(refused.message)
    return see_other(url_for("widget.conversation", token=conversation.token, _anchor="reach"))
