"""A brand's places (touchpoints): add, edit, archive, delete; plain values in, each commits."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.admin.problems import SetupProblem
from app.core.validators import RESERVED_SLUGS, slug_problem, slugify, strip, too_long
from models import Conversation, RoutingRule, Survey, SurveyResponse, Touchpoint, db
from models.brand import TOUCHPOINT_KINDS
from models.common import LABEL_MAX, utcnow

# /b/<brand>/help is the brand's own help page: a place called "help" could never be reached.
RESERVED_PLACE_SLUGS = RESERVED_SLUGS | {"help"}


def _label(label):
    label = strip(label or "")
    if not label:
        raise SetupProblem(_l("Please give the place a name, e.g. Room 412."), "label")
    if len(label) > LABEL_MAX:
        raise SetupProblem(too_long(LABEL_MAX, label), "label")
    return label


def _kind(kind):
    if kind not in TOUCHPOINT_KINDS:
        raise SetupProblem(_l("Please choose what kind of place it is."), "kind")
    return kind


def _slug(brand, slug, label, touchpoint=None):
    # An empty address is derived from the name, as the form's hint promises.
    slug = strip(slug or "") or slugify(label)
    problem = slug_problem(slug, RESERVED_PLACE_SLUGS)
    if problem:
        raise SetupProblem(problem, "slug")
    other = brand.touchpoint(slug)
    if other is not None and other is not touchpoint:
        raise SetupProblem(_("“%(place)s” already uses the address “%(slug)s”: please choose "
                              "another.", place=other.label, slug=slug), "slug")
    return slug


def _survey_id(brand, survey_id, current=None):
    """Return the brand's survey id, or None for the brand's default survey."""
    if survey_id in (None, ""):
        return None
    survey = db.session.get(Survey, survey_id) if isinstance(survey_id, int) else None
    if survey is None or survey.brand_id != brand.id:
        raise SetupProblem(_l("Please choose one of your surveys."), "survey")
    if not survey.live_questions and survey.id != current:
        raise SetupProblem(_("“%(name)s” has no question yet: add one first, or keep the "
                              "brand's default survey.", name=survey.name), "survey")
    return survey.id


def _commit(brand, touchpoint):
    # Two admins saving the same address at once: the unique key decides, not a crash.
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SetupProblem(_("Another place took the address “%(slug)s” a moment ago: please "
                              "choose another.", slug=touchpoint.slug), "slug") from None
    return touchpoint


def add_touchpoint(brand, label, kind, slug=None, survey_id=None):
    """Add a place to the brand; its address is derived from the label unless given."""
    label = _label(label)
    touchpoint = Touchpoint(brand_id=brand.id, label=label, kind=_kind(kind),
                            slug=_slug(brand, slug, label), survey_id=_survey_id(brand, survey_id))
    last = db.session.scalar(db.select(db.func.max(Touchpoint.position))
                             .filter_by(brand_id=brand.id))
    touchpoint.position = (last or 0) + 1
    db.session.add(touchpoint)
    return _commit(brand, touchpoint)


def update_touchpoint(touchpoint, *, label, kind, slug, survey_id=None):
    """Rename a place, change its address, kind or survey."""
    brand = touchpoint.brand
    label = _label(label)
    values = {"label": label, "kind": _kind(kind), "slug": _slug(brand, slug, label, touchpoint),
              "survey_id": _survey_id(brand, survey_id, touchpoint.survey_id)}
    for name, value in values.items():
        setattr(touchpoint, name, value)
    return _commit(brand, touchpoint)


def archive_touchpoint(touchpoint):
    """Close a place: its link says so, its conversations stay as they are."""
    if touchpoint.archived_at is None:
        touchpoint.archived_at = utcnow()
        db.session.commit()
    return touchpoint


def unarchive_touchpoint(touchpoint):
    """Open an archived place again; its printed codes work again."""
    touchpoint.archived_at = None
    db.session.commit()
    return touchpoint


def conversation_count(touchpoint):
    return db.session.scalar(db.select(db.func.count(Conversation.id))
                             .filter_by(touchpoint_id=touchpoint.id))


def delete_problem(touchpoint):
    """Return why the place cannot be deleted (a sentence), or None when it can."""
    if conversation_count(touchpoint):
        return _("Customers wrote from “%(place)s”: it cannot be deleted, because its "
                  "conversations keep their place. Archive it instead.", place=touchpoint.label)
    if db.session.scalar(db.select(SurveyResponse.id).filter_by(touchpoint_id=touchpoint.id)
                         .limit(1)) is not None:
        return _("Customers answered the survey at “%(place)s”: archive it instead, so that "
                  "their answers keep their place.", place=touchpoint.label)
    if db.session.scalar(db.select(RoutingRule.id).filter_by(touchpoint_id=touchpoint.id)
                         .limit(1)) is not None:
        return _("A routing rule names “%(place)s”: delete that rule on the Routing page "
                  "first, or archive the place.", place=touchpoint.label)
    return None


def delete_touchpoint(touchpoint):
    """Delete a place nobody has used yet; anything else is archived, never deleted."""
    problem = delete_problem(touchpoint)
    if problem:
        raise SetupProblem(problem)
    db.session.delete(touchpoint)
    db.session.commit()
