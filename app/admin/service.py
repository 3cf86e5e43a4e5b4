"""Brand setup operations on plain values; each commits. Callers scope ids to the brand."""
from app.reach import sending
from models import db
from models.satisfaction import RATING_MODES


def update_brand(brand, *, name, default_language, responder_name, acknowledgement,
                 expected_response_minutes, timezone, embed_origins, colour,
                 idle_timeout_minutes=None, rating_mode=None, rating_days=None,
                 response_target_minutes=None, visit_minutes=None, sms_url=None,
                 away_delay_seconds=None):
    """Save the brand's settings; `frame-ancestors` follows on the next customer page.

    A setting given as None keeps its stored value; an `sms_url` of "" removes the gateway.
    """
    brand.name, brand.default_language = name, default_language
    brand.responder_name = {k: v for k, v in responder_name.items() if v}
    brand.acknowledgement = {k: v for k, v in acknowledgement.items() if v}
    brand.expected_response_minutes, brand.timezone = expected_response_minutes, timezone
    # Origins are compared as browsers send them: scheme and host in lower case, no slash.
    brand.embed_origins = list(dict.fromkeys(o.lower().rstrip("/") for o in embed_origins))
    brand.colour = colour.lower()
    if rating_mode is not None and rating_mode not in RATING_MODES:
        raise ValueError(f"rating_mode must be one of {RATING_MODES}")
    if sms_url and (problem := sending.sms_url_problem(sms_url)):
        raise ValueError(problem)
    if away_delay_seconds is not None and away_delay_seconds < 1:
        raise ValueError("away_delay_seconds must be at least 1")
    # Sessions idle this long end at their next request; a rating window, once shortened,
    # closes the open ratings it no longer covers.
    optional = {"idle_timeout_minutes": idle_timeout_minutes, "rating_mode": rating_mode,
                "rating_days": rating_days, "response_target_minutes": response_target_minutes,
                "visit_minutes": visit_minutes, "away_delay_seconds": away_delay_seconds}
    for setting, value in optional.items():
        if value is not None:
            setattr(brand, setting, value)
    if sms_url is not None:
        brand.sms_url = sms_url or None
    db.session.commit()
    return brand
