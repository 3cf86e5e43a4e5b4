"""A brand's staff: roles, teams and places, deactivation; plain values in, each commits.

The staff page, the CLI and the API share these. Every operation checks the actor against
the role table itself (app/core/permissions.py: one gives only the roles may_grant allows, and
changes only people who have one of them), so no caller can skip the ceiling; ids in URLs are
scoped to the brand by the caller, ids among the values here.
"""
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import events
from app.admin.problems import SetupProblem
from app.core import sessions
from app.core.permissions import can, grantable_roles, may_grant, role_label
from app.routing.service import hand_out_waiting
from models import Brand, Conversation, StaffMember, Team, Touchpoint, db
from models.common import utcnow
from models.staff import ROLE_RANK


def may_change(actor, staff):
    """True if `actor` may change `staff`: one may give the role `staff` has."""
    return may_grant(actor, staff.role)


def roles_given_by(actor):
    """Return the roles `actor` may give, as people read them ("Agent, Team lead")."""
    return ", ".join(role_label(role) for role in grantable_roles(actor))


def check_actor(actor, staff=None):
    """Refuse unless `actor` manages staff and (if given) may change `staff`."""
    if not can(actor, "staff.manage"):
        raise SetupProblem(_l("Only managers and admins can change the staff."))
    if staff is not None and not may_change(actor, staff):
        raise SetupProblem(_("You cannot change %(name)s, who is %(role)s: you may change "
                              "only people who are %(roles)s.", name=staff.name,
                              role=role_label(staff.role), roles=roles_given_by(actor)))


def check_role(actor, role):
    """Return `role` if `actor` may give it, else refuse with the ceiling in words."""
    if role not in ROLE_RANK:
        raise SetupProblem(_l("Please choose a role."), "role")
    if not may_grant(actor, role):
        raise SetupProblem(_("You cannot give the role %(role)s: you may give %(roles)s.",
                              role=role_label(role), roles=roles_given_by(actor)), "role")
    return role


def _of_brand(model, brand_id, ids, message, field):
    """Return the brand's rows with `ids`; refuse if any id is not one of them."""
    ids = sorted({int(i) for i in ids or ()})
    if not ids:
        return []
    found = db.session.scalars(db.select(model).where(
        model.brand_id == brand_id, model.id.in_(ids)).order_by(model.id)).all()
    if len(found) != len(ids):
        raise SetupProblem(message, field)
    return found


def brand_teams(brand_id, ids):
    """Return the brand's teams with `ids`, or refuse (another brand's, or gone)."""
    return _of_brand(Team, brand_id, ids, _l("Please choose among your brand's teams."),
                     "teams")


def brand_touchpoints(brand_id, ids):
    """Return the brand's places with `ids`, or refuse (another brand's, or gone)."""
    return _of_brand(Touchpoint, brand_id, ids,
                     _l("Please choose among your brand's places."), "touchpoints")


def _lock_brand(brand_id):
    # Two admins demoting or deactivating each other at once must not leave none: the brand's
    # row lock makes the second wait and count again (SQLite has a single writer anyway).
    db.session.execute(db.select(Brand.id).where(Brand.id == brand_id).with_for_update())


def _keep_an_admin(staff):
    """After a change to `staff` (flushed), refuse it if the brand has no active admin left."""
    db.session.flush()
    left = db.session.scalar(db.select(db.func.count(StaffMember.id)).filter_by(
        brand_id=staff.brand_id, role="admin", active=True))
    if not left:
        db.session.rollback()
        raise SetupProblem(_("%(name)s is the brand's last active admin: make someone else "
                              "admin first.", name=staff.name))


def change_role(actor, staff, role):
    """Give `staff` another role; both theirs and the new one must be the actor's to give."""
    check_actor(actor, staff)
    role = check_role(actor, role)
    if role == staff.role:
        return staff
    _lock_brand(staff.brand_id)
    was_admin, staff.role = staff.role == "admin", role
    if was_admin:
        _keep_an_admin(staff)
    db.session.commit()
    return staff


def set_access(actor, staff, team_ids, touchpoint_ids):
    """Set the teams `staff` answers for and the places they work (none: every place)."""
    check_actor(actor, staff)
    teams = brand_teams(staff.brand_id, team_ids)
    touchpoints = brand_touchpoints(staff.brand_id, touchpoint_ids)
    staff.teams, staff.touchpoints = teams, touchpoints
    db.session.commit()
    return staff


def deactivate(actor, staff):
    """End `staff`'s access at once; return the conversations given back to their teams."""
    # Sessions end with the epoch, sockets with the signal; what was theirs waits in the
    # team's queue and goes on to an online teammate.
    if staff.id == actor.id:
        raise SetupProblem(_l("You cannot deactivate yourself: ask another manager or admin."))
    check_actor(actor, staff)
    if not staff.active:
        return []
    _lock_brand(staff.brand_id)
    staff.active, staff.deactivated_at = False, utcnow()
    staff.end_sessions()
    sessions.end_all(staff)
    if staff.role == "admin":
        _keep_an_admin(staff)
    unassigned = db.session.scalars(db.select(Conversation).where(
        Conversation.assignee_id == staff.id,
        Conversation.status.in_(("open", "pending")))).all()
    with force_locale(db.session.get(Brand, staff.brand_id).default_language):
        # The timeline is shared by the brand's staff: its lines are in the brand's language.
        note = str(_("%(name)s was deactivated: this conversation waits for someone else.",
                      name=staff.name))
    for conversation in unassigned:
        conversation.assignee = None  # its team stays: it waits in that team's queue
        conversation.add_message("system", note, internal=True)
    db.session.commit()
    try:
        for conversation in unassigned:
            events.conversation_changed.send(conversation)
        hand_out_waiting(staff)
    finally:
        # Whatever the hand-out does, every process closes this person's sockets.
        events.staff_sessions_ended.send(staff)
    return unassigned


def reactivate(actor, staff):
    """Let a deactivated member of staff sign in again (their sessions stay ended)."""
    check_actor(actor, staff)
    staff.active, staff.deactivated_at = True, None
    db.session.commit()
    return staff


def staff_of(brand_id):
    """Return the brand's staff: active ones first, then by name."""
    return db.session.scalars(
        db.select(StaffMember).filter_by(brand_id=brand_id)
        .options(selectinload(StaffMember.teams), selectinload(StaffMember.touchpoints))
        .order_by(StaffMember.active.desc(), StaffMember.name, StaffMember.id)).all()


def touchpoints_of(brand_id):
    """Return the brand's places in their order, archived ones too."""
    return db.session.scalars(db.select(Touchpoint).filter_by(brand_id=brand_id)
                              .order_by(Touchpoint.position, Touchpoint.id)).all()
