"""Brand setup: the brand, its places (touchpoints), surveys and categories."""
from flask import Blueprint, abort
from flask_login import current_user

from app.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Until the staff and roles issue gives every settings page one role table, /admin is the
# brand admin's alone.
ADMIN_ROLES = ("admin",)


@bp.before_request
def require_admin():
    """Every /admin page needs a signed-in admin of the brand; others get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in ADMIN_ROLES:
        abort(403)


def current_brand():
    """Return the signed-in admin's brand (every /admin query is scoped to it)."""
    from models import Brand, db
    return db.session.get(Brand, current_user.brand_id)


@bp.context_processor
def admin_page_context():
    from app.inbox.forms import ActionForm
    return {"logout_form": ActionForm(formdata=None), "action_form": ActionForm(formdata=None)}


from app.admin import brand, categories, surveys, touchpoints  # noqa: E402,F401
