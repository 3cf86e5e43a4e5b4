"""Creating a brand from nothing: everything it needs to take its first conversation.

Used by `kulak brand create`; takes plain values so that the API can call it too.
"""

from app.admin.problems import SetupProblem
from app.core.validators import EMAIL, RESERVED_SLUGS, slug_problem, strip
from models import (
    Brand,
    EscalationLevel,
    OneTimeLink,
    Question,
    RoutingRule,
    StaffMember,
    Survey,
    Team,
    Touchpoint,
    db,
)
from models.brand import ensure_default_categories
from models.common import EMAIL_MAX, LANGUAGES, NAME_MAX

DEFAULT_SURVEY = {
    "en": ("Feedback", "How satisfied are you so far?"),
    "tr": ("Geri bildirim", "Şu ana kadar ne kadar memnunsunuz?"),
}
DEFAULT_TEAM = {"en": "Team", "tr": "Ekip"}
FIRST_TOUCHPOINT = {"en": "Website", "tr": "Web sitesi"}


def _check(slug, name, admin_email, language):
    problem = slug_problem(slug, RESERVED_SLUGS)
    if problem:
        raise SetupProblem(str(problem))
    if db.session.scalar(db.select(Brand.id).filter_by(slug=slug)) is not None:
        raise SetupProblem(f"A brand with the address “{slug}” exists already.")
    if not name or len(name) > NAME_MAX:
        raise SetupProblem(f"The brand's name must be 1 to {NAME_MAX} characters.")
    if len(admin_email) > EMAIL_MAX or not EMAIL.match(admin_email):
        raise SetupProblem(f"“{admin_email}” does not look like an email address.")
    if db.session.scalar(db.select(StaffMember.id).filter_by(email=admin_email)) is not None:
        raise SetupProblem(f"{admin_email} is already on the staff of a brand.")
    if language not in LANGUAGES:
        raise SetupProblem(f"The language must be one of: {', '.join(LANGUAGES)}.")


def create_brand(slug, name, admin_email, language="en"):
    """Create a brand with its defaults and its admin; return (brand, admin, link token)."""
    slug, name, admin_email = strip(slug), strip(name), strip(admin_email).lower()
    _check(slug, name, admin_email, language)
    brand = Brand(slug=slug, name=name, default_language=language, embed_origins=[],
                  acknowledgement={}, responder_name={}, business_hours={})
    db.session.add(brand)
    db.session.flush()
    ensure_default_categories(brand)
    survey_name, prompt = DEFAULT_SURVEY[language]
    survey = Survey(brand_id=brand.id, name=survey_name, is_default=True, questions=[
        Question(position=0, kind="rating",
                 prompt={code: DEFAULT_SURVEY[code][1] for code in LANGUAGES})])
    db.session.add(survey)
    db.session.add(Touchpoint(brand_id=brand.id, slug="web", kind="web", position=0,
                              label=FIRST_TOUCHPOINT[language]))
    admin = StaffMember(brand_id=brand.id, email=admin_email, role="admin",
                        name=admin_email.split("@")[0][:NAME_MAX])
    admin.set_unusable_password()
    team = Team(brand_id=brand.id, slug="team", name=DEFAULT_TEAM[language], members=[admin])
    db.session.add_all([admin, team])
    db.session.flush()
    db.session.add(RoutingRule(brand_id=brand.id, team_id=team.id, position=1))
    db.session.add_all(EscalationLevel.defaults(brand.id))
    _link, token = OneTimeLink.issue(admin, "set_password")
    db.session.commit()
    return brand, admin, token


def brands():
    """Return every brand with its number of staff, oldest first."""
    count = (db.select(db.func.count(StaffMember.id))
             .where(StaffMember.brand_id == Brand.id).scalar_subquery())
    return db.session.execute(db.select(Brand, count).order_by(Brand.id)).all()
