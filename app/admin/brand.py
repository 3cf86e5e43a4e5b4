"""The brand page and the overview of /admin."""
from flask import flash, render_template, url_for
from flask_babel import gettext as _

from app.admin import bp, current_brand, service
from app.admin.forms import BrandForm, lines
from app.core.permissions import requires
from app.core.rendering import see_other

# What is asked once a conversation is resolved, and what reports measure against.
SATISFACTION = ("rating_mode", "rating_days", "response_target_minutes", "visit_minutes")
# A stored SMS gateway is shown by its scheme and last characters: its URL holds a token.
SHOWN_TAIL = 4


@bp.get("/")
@requires("brand.setup")
def index():
    brand = current_brand()
    return render_template("admin/index.html", brand=brand)


def _brand_form(brand):
    return BrandForm(data={
        "name": brand.name, "default_language": brand.default_language,
        "responder_en": brand.responder_name.get("en"),
        "responder_tr": brand.responder_name.get("tr"),
        "acknowledgement_en": brand.acknowledgement.get("en"),
        "acknowledgement_tr": brand.acknowledgement.get("tr"),
        "expected_response_minutes": brand.expected_response_minutes,
        "timezone": brand.timezone, "embed_origins": "\n".join(brand.embed_origins),
        "colour": brand.colour, "idle_timeout_minutes": brand.idle_timeout_minutes,
        "away_minutes": max(1, round(brand.away_delay_seconds / 60)),
        **{name: getattr(brand, name) for name in SATISFACTION}})


def masked_url(url):
    """Return a stored secret URL as its scheme and last few characters, or None."""
    if not url:
        return None
    scheme, _sep, rest = url.partition("://")
    return f"{scheme}://…{rest[-SHOWN_TAIL:]}" if len(rest) > 3 * SHOWN_TAIL else f"{scheme}://…"


@bp.route("/brand", methods=["GET", "POST"])
@requires("brand.setup")
def brand_settings():
    brand = current_brand()
    form = BrandForm() if BrandForm().is_submitted() else _brand_form(brand)
    if form.validate_on_submit():
        service.update_brand(
            brand, name=form.name.data, default_language=form.default_language.data,
            responder_name={"en": form.responder_en.data, "tr": form.responder_tr.data},
            acknowledgement={"en": form.acknowledgement_en.data,
                             "tr": form.acknowledgement_tr.data},
            expected_response_minutes=form.expected_response_minutes.data,
            timezone=form.timezone.data, embed_origins=lines(form.embed_origins.data),
            colour=form.colour.data, idle_timeout_minutes=form.idle_timeout_minutes.data,
            rating_mode=form.rating_mode.data, rating_days=form.rating_days.data,
            response_target_minutes=form.response_target_minutes.data,
            visit_minutes=form.visit_minutes.data,
            # An empty box keeps the stored gateway, which the page never shows back.
            sms_url="" if form.remove_sms_url.data else form.sms_url.data or None,
            away_delay_seconds=form.away_minutes.data * 60)
        flash(_("Saved."))
        return see_other(url_for("admin.brand_settings"))
    status = 422 if form.errors else 200
    return render_template("admin/brand.html", brand=brand, form=form,
                           sms_shown=masked_url(brand.sms_url)), status
