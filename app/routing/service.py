"""Route a new conversation: the brand's first matching rule names a team; inside it, the
online member with the fewest open conversations takes it, round robin on ties. With nobody
online it waits in the team's unassigned queue, and the customer is told so; when a member of
that team comes online, what waits is handed out by the same rule. Only members who may see
the conversation (app.core.scoping: their touchpoints, if limited) are candidates.
"""
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, update

from app import events
from app.core.presence import current_presence
from app.core.scoping import conversation_scope, who_may_hold
from models import Conversation, RoutingRule, db
from models.common import utcnow


def online_staff(brand_id):
    """Return the ids of the brand's staff who have an inbox page open."""
    return current_presence().online(brand_id)


def open_counts(staff_ids):
    """Return {staff id: open or pending conversations assigned to them}."""
    rows = db.session.execute(
        db.select(Conversation.assignee_id, db.func.count(Conversation.id))
        .where(Conversation.assignee_id.in_(staff_ids),
               Conversation.status.in_(("open", "pending")))
        .group_by(Conversation.assignee_id))
    return dict(rows.all())


def route(conversation):
    """Set the team and assignee of a new, uncommitted conversation; return the rule used."""
    brand_id = conversation.brand.id
    rule = next((r for r in RoutingRule.for_brand(brand_id) if r.matches(conversation)), None)
    if rule is None:
        return None
    conversation.team = rule.team
    candidates = _candidates(conversation, online_staff(brand_id))
    if candidates:
        chosen = least_busy(candidates)
        conversation.assignee = chosen
        chosen.last_routed_at = utcnow()
    return rule


def _candidates(conversation, online):
    """Return the active, online members of the conversation's team who work its place."""
    return who_may_hold(conversation, [m for m in conversation.team.members
                                  if m.active and m.id in online])


def least_busy(candidates):
    """Return the candidate with the fewest open conversations; ties go round robin."""
    counts = open_counts([m.id for m in candidates])
    return min(candidates, key=lambda m: (
        counts.get(m.id, 0), m.last_routed_at or datetime.min, m.id))


def hand_out_waiting(staff):
    """Give the open conversations waiting in `staff`'s teams' queues to those teams' online
    members, urgent and longest-waiting first; return how many were handed out."""
    team_ids = [t.id for t in staff.teams]
    if not team_ids:
        return 0
    # Only what `staff` may see: their arrival changes no other conversation's candidates.
    waiting = db.session.scalars(
        db.select(Conversation)
        .where(conversation_scope(staff), Conversation.team_id.in_(team_ids),
               Conversation.assignee_id.is_(None), Conversation.status == "open")
        .order_by(case((Conversation.urgency == "urgent", 0), else_=1),
                  Conversation.waiting_since, Conversation.id).limit(100)).all()
    online, handed = online_staff(staff.brand_id), 0
    for conversation in waiting:
        candidates = _candidates(conversation, online)
        if candidates and _claim(conversation, least_busy(candidates)):
            handed += 1
    return handed


def _claim(conversation, chosen):
    """Assign `conversation` to `chosen` unless another process did first; tell the customer."""
    claimed = db.session.execute(
        update(Conversation).where(Conversation.id == conversation.id,
                                   Conversation.assignee_id.is_(None))
        .values(assignee_id=chosen.id)).rowcount == 1
    if not claimed:
        db.session.rollback()
        return False
    conversation.assignee, chosen.last_routed_at = chosen, utcnow()
    with force_locale(conversation.language):
        conversation.add_message("system", _("%(name)s from %(team)s is answering now.",
                                             name=chosen.name, team=conversation.team.name))
    db.session.commit()
    events.conversation_changed.send(conversation)
    return True
