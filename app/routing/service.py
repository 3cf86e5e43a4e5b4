"""Route a new conversation: the brand's first matching rule names a team; inside it, the
online member with the fewest open conversations takes it, round robin on ties. With nobody
online it waits in the team's unassigned queue, and the customer is told so.
"""
from datetime import datetime

from flask import current_app

from models import Conversation, RoutingRule, db
from models.common import utcnow


def online_staff(brand_id):
    """Return the ids of the brand's staff who have an inbox page open."""
    return current_app.extensions["kulak_hub"].presence.online(brand_id)


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
    online = online_staff(brand_id)
    candidates = [m for m in rule.team.members if m.active and m.id in online]
    if candidates:
        counts = open_counts([m.id for m in candidates])
        chosen = min(candidates, key=lambda m: (
            counts.get(m.id, 0), m.last_routed_at or datetime.min, m.id))
        conversation.assignee = chosen
        chosen.last_routed_at = utcnow()
    return rule
