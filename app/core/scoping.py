"""The one brand-scoped look-up every staff page uses: another brand's ids look absent."""
from flask import abort

from models import db


def brand_scoped(staff, model, object_id):
    """Return the brand's object with `object_id`, or 404: another brand's looks absent."""
    found = db.session.get(model, object_id) if isinstance(object_id, int) else None
    if found is None or found.brand_id != staff.brand_id:
        abort(404)
    return found
