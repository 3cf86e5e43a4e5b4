"""Who sees what: a staff member's brand, their touchpoints if they work only some, and what
their role lets them see (the role table: managers every conversation, leads their teams').

Every staff-side read of conversations goes through `conversation_scope` (SQL) or `sees`
(Python, on top of StaffMember.works_at), so the rule lives here and nowhere else.
"""
from functools import lru_cache
from typing import NamedTuple

from flask import abort

from app.core.permissions import can
from models import Conversation, db


def brand_scoped(staff, model, object_id):
    """Return the brand's object with `object_id`, or 404: another brand's looks absent."""
    found = db.session.get(model, object_id) if isinstance(object_id, int) else None
    if found is None or found.brand_id != staff.brand_id:
        abort(404)
    return found


class Scope(NamedTuple):
    """What decides which conversations a member of staff sees, as plain values."""
    brand_id: int
    staff_id: int
    touchpoints: tuple | None  # None: every touchpoint
    see_all: bool
    see_team: bool
    teams: tuple
    teammates: tuple


def scope_of(staff):
    """Return `staff`'s Scope: equal scopes see the same conversations."""
    touchpoints = staff.touchpoint_ids
    see_all = can(staff, "inbox.see_all")
    see_team = not see_all and can(staff, "inbox.see_team")
    return Scope(staff.brand_id, staff.id, tuple(touchpoints) if touchpoints is not None else None,
                 see_all, see_team, tuple(sorted(team.id for team in staff.teams)),
                 tuple(sorted(_teammate_ids(staff))) if see_team else ())


def conversation_scope(staff):
    """Return the SQL condition on Conversation for what `staff` may see."""
    return scope_condition(scope_of(staff))


@lru_cache(maxsize=256)
def scope_condition(scope):
    """Return the SQL condition of a Scope: built once per scope, as a list's statement is."""
    condition = Conversation.brand_id == scope.brand_id
    if scope.touchpoints is not None:
        # IN never matches NULL: a conversation without a touchpoint stays out, as it must.
        condition = db.and_(condition, Conversation.touchpoint_id.in_(scope.touchpoints))
    if scope.see_all:
        return condition
    unassigned = Conversation.assignee_id.is_(None)
    teams = Conversation.team_id.in_(scope.teams)
    if scope.see_team:  # also what their teammates hold, whatever its team
        teams = db.or_(teams, Conversation.assignee_id.in_(scope.teammates))
    else:
        teams = db.and_(teams, unassigned)
    # What no rule routed (no team) and nobody took is everyone's to pick up.
    loose = db.and_(Conversation.team_id.is_(None), unassigned)
    return db.and_(condition, db.or_(Conversation.assignee_id == scope.staff_id, teams, loose))


def _related_id(conversation, name):
    """Return the id of `conversation`'s assignee or team, also before it is flushed."""
    found = getattr(conversation, f"{name}_id")
    if found is None and getattr(conversation, name) is not None:
        found = getattr(conversation, name).id
    return found


def _teammate_ids(staff):
    return {member.id for team in staff.teams for member in team.members}


def _role_sees(staff, conversation):
    """The role part of `conversation_scope`, in Python."""
    assignee_id = _related_id(conversation, "assignee")
    if can(staff, "inbox.see_all") or assignee_id == staff.id:
        return True
    team_id = _related_id(conversation, "team")
    if can(staff, "inbox.see_team"):
        return (team_id in {team.id for team in staff.teams}
                or assignee_id in _teammate_ids(staff) or (team_id is None and assignee_id is None))
    in_queue = team_id is None or team_id in {team.id for team in staff.teams}
    return in_queue and assignee_id is None


def touchpoint_of(conversation):
    """Return the id of `conversation`'s touchpoint, also before it is flushed (routing)."""
    if conversation.touchpoint_id is not None:
        return conversation.touchpoint_id  # no load of the relationship for a stored one
    touchpoint = conversation.touchpoint
    return touchpoint.id if touchpoint is not None else None


def sees(staff, conversation):
    """True if `staff` may see `conversation`: the same rule as `conversation_scope`."""
    return may_hold(staff, conversation) and _role_sees(staff, conversation)


def who_see(conversation, people):
    """Return those of `people` who may see `conversation`, in their order."""
    return [person for person in people if sees(person, conversation)]


def may_hold(staff, conversation):
    """True if `conversation` may be given to `staff`: their brand and one of their places (an
    assignee always sees what they hold, whatever their role)."""
    brand_id = conversation.brand_id if conversation.brand_id is not None else \
        conversation.brand.id
    return staff.brand_id == brand_id and staff.works_at(touchpoint_of(conversation))


def who_may_hold(conversation, people):
    """Return those of `people` to whom `conversation` may be given, in their order."""
    return [person for person in people if may_hold(person, conversation)]


def conversation_for(staff, conversation_id):
    """Return the conversation if `staff` may see it, else 404 (as for another brand's)."""
    conversation = brand_scoped(staff, Conversation, conversation_id)
    if not sees(staff, conversation):
        abort(404)
    return conversation
