"""The demo brand: a hotel with a room, a restaurant table and a website chat."""
import secrets
from functools import lru_cache

from werkzeug.security import generate_password_hash

from models import (
    Brand,
    EscalationLevel,
    Question,
    RoutingRule,
    StaffMember,
    Survey,
    Team,
    Touchpoint,
    db,
)
from models.brand import ensure_default_categories

DEMO_SLUG = "demo"
TOUCHPOINTS = (("room-412", "Room 412", "room"), ("table-7", "Table 7", "table"),
               ("web", "Website", "web"))
STAFF = (("agent@demo.example", "Ayşe Demir", "agent"),
         ("lead@demo.example", "Mehmet Kaya", "lead"),
         ("manager@demo.example", "Elif Yılmaz", "manager"),
         ("admin@demo.example", "Deniz Aksoy", "admin"))


def _get_or_add(model, **keys):
    found = db.session.scalar(db.select(model).filter_by(**keys))
    if found is None:
        found = model(**keys)
        db.session.add(found)
    return found


def _demo_survey(brand):
    survey = _get_or_add(Survey, brand_id=brand.id, name="Stay")
    survey.is_default = True
    if not survey.questions:
        survey.questions = [
            Question(position=0, kind="rating",
                     prompt={"en": "How is your stay?", "tr": "Konaklamanız nasıl geçiyor?"}),
            Question(position=1, kind="yes_no",
                     prompt={"en": "Was your room clean?", "tr": "Odanız temiz miydi?"}),
        ]
    return survey


@lru_cache(maxsize=4)
def _shared_hash(password):
    """Hash the shared demo password once per process: the demo accounts all use it, and each
    scrypt hash costs about 0.2 s of CPU (seconds when a test suite seeds the demo per test)."""
    return generate_password_hash(password)


def seed_demo(password=None):
    """Create or update the demo brand; return {email: password} for staff created or reset."""
    brand = _get_or_add(Brand, slug=DEMO_SLUG)
    brand.name = "Demo Hotel"
    brand.default_language = "en"
    brand.timezone = "Europe/Istanbul"
    brand.expected_response_minutes = 5
    brand.responder_name = {"en": "The front desk", "tr": "Resepsiyon"}
    brand.embed_origins = brand.embed_origins or []
    db.session.flush()
    ensure_default_categories(brand)
    for position, (slug, label, kind) in enumerate(TOUCHPOINTS):
        touchpoint = _get_or_add(Touchpoint, brand_id=brand.id, slug=slug)
        touchpoint.label, touchpoint.kind, touchpoint.position = label, kind, position
    _demo_survey(brand)
    team = _get_or_add(Team, brand_id=brand.id, slug="front-desk")
    team.name = "Front desk"
    credentials = {}
    for email, name, role in STAFF:
        staff = db.session.scalar(db.select(StaffMember).filter_by(email=email))
        if staff is None:
            staff = StaffMember(email=email, brand_id=brand.id)
            db.session.add(staff)
            credentials[email] = password or secrets.token_urlsafe(9)
        elif password:
            credentials[email] = password
        staff.name, staff.role = name, role
        if email in credentials:
            if password:
                staff.password_hash = _shared_hash(password)
            else:
                staff.set_password(credentials[email])
        if role in ("agent", "lead") and staff not in team.members:
            team.members.append(staff)
    db.session.flush()
    # Everything goes to the front desk: whoever of it is online, fewest open conversations.
    if not RoutingRule.for_brand(brand.id):
        db.session.add(RoutingRule(brand_id=brand.id, team_id=team.id, position=1))
    if not EscalationLevel.for_brand(brand.id):
        db.session.add_all(EscalationLevel.defaults(brand.id))
    db.session.commit()
    return credentials
