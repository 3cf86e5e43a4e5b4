"""A brand's colour for its customer pages, as a tiny stylesheet (the CSP allows no inline style)."""
from flask import Response, abort

from app.extensions import limiter
from app.widget import bp
from models import Brand, db
from models.brand import DEFAULT_COLOUR


@bp.get("/b/<brand_slug>/theme.css")
@limiter.exempt
def theme(brand_slug):
    """Return `:root{--brand:…}`; the page links it with the colour in the URL, so it caches."""
    colour = db.session.scalar(db.select(Brand.colour).filter_by(slug=brand_slug))
    if colour is None:
        abort(404)
    response = Response(f":root{{--brand:{colour or DEFAULT_COLOUR}}}\n", mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
