"""Customer pages: entry and survey, "how can we help", and the conversation."""
import uuid
from zoneinfo import ZoneInfo

from flask import abort, current_app, g, make_response, render_template, request, url_for
from flask_babel import format_date, get_locale

from app.core import transcript
from app.core.rendering import page_or_fragment, see_other, wants_fragment
from app.core.security import allow_framing_by, no_store
from app.extensions import limiter
from app.reach import link
from app.widget import bp, satisfaction, service
from app.widget.forms import HelpForm, MessageForm, survey_answers, survey_form
from app.widget.reach_forms import ReachForm
from models import Brand, Conversation, Survey, db
from models.common import CONTACT_MAX


def customer_post_limit():
    return current_app.config["CUSTOMER_POST_LIMIT"]


def _entry_rules(view, suffix=""):
    """Register `view` under /b/... and /embed/..., with and without a touchpoint."""
    for prefix, embed in (("/b", False), ("/embed", True)):
        for rule, defaults in ((f"{prefix}/<brand_slug>{suffix}", {"tp_slug": None}),
                               (f"{prefix}/<brand_slug>/<tp_slug>{suffix}", {})):
            bp.add_url_rule(rule, view_func=view, methods=["GET", "POST"],
                            defaults={**defaults, "embed": embed})
    return view


def _language():
    return str(get_locale())


def _new_client_id():
    return uuid.uuid4().hex


def load_place(brand_slug, tp_slug):
    """Return (brand, touchpoint) or abort 404; frame and language follow the brand."""
    brand = db.session.scalar(db.select(Brand).filter_by(slug=brand_slug))
    if brand is None:
        abort(404)
    g.brand_language = brand.default_language
    allow_framing_by(brand.frame_ancestors())
    touchpoint = None
    if tp_slug is not None and (touchpoint := brand.touchpoint(tp_slug)) is None:
        abort(404)
    if touchpoint is not None and touchpoint.archived_at is not None:
        # Its codes stay printed after the place closes: say so kindly, not "not found".
        abort(make_response(render_template(
            "widget/place_closed.html", brand=brand, touchpoint=touchpoint,
            embed=(request.view_args or {}).get("embed", False)), 410))
    return brand, touchpoint


def place_url(endpoint, brand, touchpoint, embed, **query):
    return url_for(endpoint, brand_slug=brand.slug,
                   tp_slug=touchpoint.slug if touchpoint else None, embed=embed, **query)


bp.add_app_template_global(place_url)


@bp.app_template_filter("local_time")
def local_time(moment, brand):
    """Format a stored UTC time as HH:MM in the brand's time zone."""
    zone = ZoneInfo(brand.timezone or "UTC")
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%H:%M")


@bp.app_template_filter("local_day")
def local_day(moment, brand):
    """Format a stored UTC time as its day and month in the brand's time zone and language."""
    zone = ZoneInfo(brand.timezone or "UTC")
    return format_date(moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date(), "d MMMM")


@bp.before_request
def frame_only_by_self():
    allow_framing_by("'self'")


@limiter.limit(customer_post_limit, methods=["POST"])
def entry(brand_slug, tp_slug, embed):
    """Show the brand and place, and the short survey; record answers, then ask how to help."""
    brand, touchpoint = load_place(brand_slug, tp_slug)
    survey = Survey.for_touchpoint(brand, touchpoint)
    if survey is None or not survey.live_questions:
        return help_page(brand_slug, tp_slug, embed)
    form = survey_form(survey.live_questions, _language())
    if form.validate_on_submit():
        reference = service.record_survey(brand, touchpoint, survey,
                                          survey_answers(form, survey.live_questions),
                                          _language())
        return see_other(place_url("widget.help_page", brand, touchpoint, embed,
                                   r=reference, lang=form.lang.data or None))
    status = 422 if form.errors else 200
    return render_template("widget/survey.html", brand=brand, touchpoint=touchpoint,
                           embed=embed, survey=survey, form=form), status


@limiter.limit(customer_post_limit, methods=["POST"])
def help_page(brand_slug, tp_slug, embed):
    """Ask what it is about; the first message opens the conversation."""
    brand, touchpoint = load_place(brand_slug, tp_slug)
    form = HelpForm(brand.active_categories(), _language(),
                    r=request.args.get("r"), client_id=_new_client_id())
    if request.method == "POST" and form.validate():
        response = service.survey_response_from(form.r.data, brand)
        conversation, _created = service.start_conversation(
            brand, touchpoint, form.body.data, _language(), category=form.category.data,
            name=form.name.data, contact=form.contact.data, client_id=form.client_id.data,
            survey_response=response)
        return see_other(url_for("widget.conversation", token=conversation.token))
    status = 422 if form.errors else 200
    # Its client id is this visitor's alone: a page kept by a cache or the Back button would
    # hand it, and with it their conversation, to whoever comes next.
    no_store()
    return render_template("widget/help.html", brand=brand, touchpoint=touchpoint,
                           embed=embed, form=form), status


_entry_rules(entry)
_entry_rules(help_page, "/help")


def load_conversation(token):
    conversation = Conversation.by_token(token)
    if conversation is None:
        abort(404)
    g.conversation_language = conversation.language
    g.brand_language = conversation.brand.default_language
    allow_framing_by(conversation.brand.frame_ancestors())
    return conversation


def _reach_context(conversation, form=None, error=None):
    """Return what widget/_reach.html shows: the way back, when the brand can send at all."""
    state = link.reach_state(conversation)
    if state["reach_channels"]:
        state["reach_form"] = form or ReachForm(formdata=None, address=conversation.reach_address,
                                                replies=conversation.reach_replies)
    return {**state, "reach_error": error, "reach_max": CONTACT_MAX}


def _conversation_context(conversation, form=None, rating_error=None, reach_form=None,
                          reach_error=None, seen=True):
    """Return the conversation page's context; `seen`: the page shows its messages."""
    log = transcript.page(conversation)
    if seen:
        # Replies the customer has had on screen are not sent to them by mail or SMS.
        Conversation.customer_saw(conversation.id, log["last_id"])
        db.session.commit()
    return {"conversation": conversation, "brand": conversation.brand,
            "touchpoint": conversation.touchpoint, **log,
            "form": form or MessageForm(formdata=None, client_id=_new_client_id()),
            **satisfaction.rating_context(conversation, _new_client_id(), rating_error),
            **_reach_context(conversation, reach_form, reach_error)}


@bp.route("/c/<token>", methods=["GET", "POST"])
@limiter.limit(customer_post_limit, methods=["POST"])
def conversation(token):
    """Show the conversation; a post adds the customer's message (once, however often sent)."""
    conversation = load_conversation(token)
    form = MessageForm() if request.method == "POST" else None
    if form is not None and form.validate():
        service.post_customer_message(conversation, form.body.data, form.client_id.data or None)
        if not wants_fragment():
            return see_other(url_for("widget.conversation", token=token,
                                     lang=form.lang.data or None))
        form = None
    status = 422 if form is not None and form.errors else 200
    return page_or_fragment("widget/conversation.html", "widget/_message_post.html",
                            status=status, **_conversation_context(conversation, form))


@bp.route("/c/<token>/rating", methods=["GET", "POST"])
@limiter.limit(customer_post_limit, methods=["POST"])
def rating(token):
    """Store the customer's rating (a post only: a mail scanner opening a link stores nothing)."""
    conversation = load_conversation(token)
    back = url_for("widget.conversation", token=token, lang=request.values.get("lang") or None,
                   _anchor="rating")
    if request.method == "GET":
        return see_other(back)
    error = None
    try:
        satisfaction.rate(conversation, csat=request.form.get("csat"),
                          nps=request.form.get("nps"), comment=request.form.get("comment"),
                          client_id=request.form.get("client_id"))
    except satisfaction.RatingRefused as refused:
        error = refused.message
    if error is None and not wants_fragment():
        return see_other(back)
    return page_or_fragment("widget/conversation.html", "widget/_rating.html",
                            status=422 if error else 200,
                            **_conversation_context(conversation, rating_error=error,
                                                    seen=not wants_fragment()))
