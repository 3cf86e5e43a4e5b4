"""A brand's teams and who is in them: create, rename, delete, members; plain values in, each
commits. Callers scope ids to the brand (another brand's team or member is refused); who is in
a team changes only for people the actor may change (the staff page's rule)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.admin.people import check_actor
from app.admin.problems import SetupProblem
from app.core.validators import slugify, strip, too_long
from models import Conversation, EscalationLevel, RoutingRule, StaffMember, Team, db
from models.common import NAME_MAX


def teams_of(brand_id):
    """Return the brand's teams by name."""
    return db.session.scalars(db.select(Team).filter_by(brand_id=brand_id)
                              .order_by(Team.name, Team.id)).all()


def _name(brand_id, name, team=None):
    name = strip(name or "")
    if not name:
        raise SetupProblem(_l("Please give the team a name, e.g. Housekeeping."), "name")
    if len(name) > NAME_MAX:
        raise SetupProblem(too_long(NAME_MAX, name), "name")
    same = next((t for t in teams_of(brand_id)
                 if t.name.casefold() == name.casefold() and t is not team), None)
    if same is not None:
        raise SetupProblem(_("There is a team “%(name)s” already: please choose another "
                              "name.", name=same.name), "name")
    return name


def _free_slug(brand_id, name):
    """Return a slug for `name` that no team of the brand has: "kitchen", "kitchen-2"..."""
    base = slugify(name)[:60].strip("-") or "team"
    taken = set(db.session.scalars(db.select(Team.slug).filter_by(brand_id=brand_id)))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _commit(name):
    # Two managers creating the same team at once: the unique slug decides, not a crash.
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SetupProblem(_("Another team took the name “%(name)s” a moment ago: please "
                              "choose another.", name=name), "name") from None


def create_team(brand_id, name):
    """Add a team; its slug (kept for the API and the CLI) comes from the name."""
    name = _name(brand_id, name)
    team = Team(brand_id=brand_id, name=name, slug=_free_slug(brand_id, name))
    db.session.add(team)
    _commit(name)
    return team


def rename_team(team, name):
    """Rename a team; its slug stays, so the API, the CLI and the demo still find it."""
    team.name = _name(team.brand_id, name, team)
    _commit(team.name)
    return team


def delete_problem(team):
    """Return why the team cannot be deleted (a sentence), or None when it can."""
    def used(query):
        return db.session.scalar(query.limit(1)) is not None
    if used(db.select(Conversation.id).filter_by(team_id=team.id)):
        return _("“%(team)s” has conversations: it cannot be deleted, because they keep their "
                  "team in the inbox and in reports. Rename it instead.", team=team.name)
    if used(db.select(RoutingRule.id).filter_by(team_id=team.id)):
        return _("A routing rule sends conversations to “%(team)s”: change or delete that rule "
                  "on the Routing page first.", team=team.name)
    if used(db.select(EscalationLevel.id).filter_by(
            brand_id=team.brand_id, target_kind="team", target_value=str(team.id))):
        return _("The escalation chain alerts “%(team)s”: change that level on the Escalation "
                  "page first.", team=team.name)
    return None


def delete_team(team):
    """Delete a team nothing refers to; its members stay on the staff."""
    problem = delete_problem(team)
    if problem:
        raise SetupProblem(problem)
    team.members = []
    db.session.delete(team)
    db.session.commit()


def add_member(actor, team, staff_id):
    """Put a member of the team's brand into it (once), if `actor` may change them."""
    staff = db.session.get(StaffMember, staff_id) if isinstance(staff_id, int) else None
    if staff is None or staff.brand_id != team.brand_id:
        raise SetupProblem(_l("Please choose someone of your staff."), "staff")
    check_actor(actor, staff)
    if staff not in team.members:
        team.members.append(staff)
        db.session.commit()
    return staff


def remove_member(actor, team, staff):
    """Take `staff` out of the team; conversations assigned to them stay theirs."""
    check_actor(actor, staff)
    if staff in team.members:
        team.members.remove(staff)
        db.session.commit()
    return staff
