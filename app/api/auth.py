"""Who is calling: the brand's API token in `Authorization: Bearer`, checked on every request."""
from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import abort

from app.api import bp
from app.extensions import limiter
from models import ApiToken, StaffMember, db
from models.api import token_hash

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenPrincipal:
    """A token seen as staff by the shared scoping rules: its brand's every conversation (the
    rights of a manager's view), never a person's account."""

    is_authenticated = True
    role = "manager"
    touchpoint_ids = None
    teams = ()
    id = None

    def __init__(self, token):
        self.token, self.brand_id = token, token.brand_id


def _bearer():
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def rate_key():
    """Each token has its own budget; calls without one share their address's."""
    plain = _bearer()
    if plain is None:
        return "api-anon-" + get_remote_address()
    return "api-" + token_hash(plain)[:24]


# Checked before authenticate runs: a flood of bad tokens is cut off as well. Shared: one
# budget across every route (a plain limit on a blueprint counts each route apart).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api",
                     key_func=rate_key)(bp)


@bp.before_request
def authenticate():
    """Refuse a missing, unknown or revoked token (401) and a read-only one writing (403)."""
    plain = _bearer()
    token = ApiToken.active(plain) if plain and len(plain) <= 200 else None
    if token is None:
        abort(401)
    if request.method not in READS and token.read_only:
        abort(403, message="This token is read-only: create a read-write token to write.")
    if token.touch():
        db.session.commit()
    g.api_principal = TokenPrincipal(token)


def principal():
    return g.api_principal


def brand_staff(staff_id):
    """Return the token's brand's active member of staff with `staff_id`, or None."""
    found = db.session.get(StaffMember, staff_id) if staff_id is not None else None
    ok = found is not None and found.brand_id == principal().brand_id and found.active
    return found if ok else None


def acting_staff(staff_id):
    """Return who does what a write asks: `staff_id`, or the token's creator (422 if that is
    not an active member of staff of the brand)."""
    staff = brand_staff(staff_id if staff_id is not None else principal().token.created_by_id)
    if staff is None:
        abort(422, message="staff_id: no active member of staff of this brand has this id.",
              errors={"staff_id": "no active member of staff of this brand has this id"})
    return staff
