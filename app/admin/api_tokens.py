"""API tokens: the brand's keys for its CRM, shown once, kept only as hashes, revocable."""
from flask import current_app, render_template, url_for
from flask_login import current_user

from app.admin import bp, current_brand
from app.admin.settings_forms import ApiTokenForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import ApiToken, db


def create_token(brand_id, name, read_only, created_by_id=None):
    """Create a token; return (token, its plain form, to be shown once and never kept)."""
    token, plain = ApiToken.issue(brand_id, name, read_only, created_by_id)
    db.session.commit()
    return token, plain


def revoke_token(token):
    """Revoke a token: the next request that carries it is refused."""
    token.revoke()
    db.session.commit()


def _page(form, plain=None, status=200):
    brand = current_brand()
    return render_template("admin/api.html", form=form, tokens=ApiToken.for_brand(brand.id),
                           plain=plain, public_url=current_app.config["PUBLIC_URL"]), status


@bp.route("/api", methods=["GET", "POST"])
@requires("api.tokens")
def api_tokens():
    """List the brand's API tokens; create one, shown this once."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        _token, plain = create_token(current_user.brand_id, form.name.data,
                                     form.read_only.data, current_user.id)
        return _page(ApiTokenForm(formdata=None), plain=plain, status=201)
    return _page(form, status=422 if form.errors else 200)


@bp.post("/api/<int:token_id>/revoke")
@requires("api.tokens")
def revoke_api_token(token_id):
    """Revoke one of the brand's tokens."""
    revoke_token(brand_scoped(current_user, ApiToken, token_id))
    return see_other(url_for("admin.api_tokens"))
