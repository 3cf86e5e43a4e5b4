"""Brand setup and the brand's settings pages; each view names its permission (@requires)."""
from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from app.core.permissions import permission_of
from app.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_permission():
    """Fail closed: an /admin view that names no permission (@requires) is no one's."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if permission_of(current_app.view_functions.get(request.endpoint)) is None:
        abort(403)


def current_brand():
    """Return the signed-in person's brand (every /admin query is scoped to it)."""
    from models import Brand, db
    return db.session.get(Brand, current_user.brand_id)


@bp.context_processor
def admin_page_context():
    from app.core.forms import ActionForm
    return {"logout_form": ActionForm(formdata=None), "action_form": ActionForm(formdata=None)}


from app.admin import (  # noqa: E402,F401
    api_tokens,
    brand,
    canned,
    categories,
    escalation,
    mail,
    model,
    privacy,
    routing,
    staff,
    surveys,
    teams,
    touchpoints,
    webhooks,
)
