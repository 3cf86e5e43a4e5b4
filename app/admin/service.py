"""Brand setup operations on plain values; each commits. Callers scope ids to the brand."""
from models import db


def update_brand(brand, *, name, default_language, responder_name, acknowledgement,
                 expected_response_minutes, timezone, embed_origins, colour,
                 idle_timeout_minutes=None):
    """Save the brand's settings; `frame-ancestors` follows on the next customer page."""
    brand.name, brand.default_language = name, default_language
    brand.responder_name = {k: v for k, v in responder_name.items() if v}
    brand.acknowledgement = {k: v for k, v in acknowledgement.items() if v}
    brand.expected_response_minutes, brand.timezone = expected_response_minutes, timezone
    # Origins are compared as browsers send them: scheme and host in lower case, no slash.
    brand.embed_origins = list(dict.fromkeys(o.lower().rstrip("/") for o in embed_origins))
    brand.colour = colour.lower()
    if idle_timeout_minutes is not None:  # sessions idle this long end at their next request
        brand.idle_timeout_minutes = idle_timeout_minutes
    db.session.commit()
    return brand
