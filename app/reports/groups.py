"""The three customer groups: the one place their rules live (DESIGN.md), as SQL."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, not_, or_

from models import Conversation as C
from models import db

GROUPS = ("satisfied", "at_risk", "suggestions")
TITLES = {"satisfied": _l("Satisfied (loyal)"), "at_risk": _l("At risk (dissatisfied)"),
          "suggestions": _l("With suggestions")}
# What the page states; it must say what group_rules does.
RULES = {
    "satisfied": _l("Their latest rating is a CSAT of 4–5 or an NPS of 9–10 (and not low on "
                    "the other), or the conversation's sentiment is positive with no low "
                    "rating and no complaint."),
    "at_risk": _l("Negative sentiment, a latest CSAT of 1–2 or NPS of 0–6, or an escalation, "
                  "and not satisfied since (a later good rating or positive sentiment)."),
    "suggestions": _l("The conversation's intent is a suggestion. A conversation in this "
                      "group may also be in one of the other two."),
}
LIST_MAX = 50


def group_rules():
    """Return {group: SQL condition on Conversation} (csat and nps: its newest rating).

    Every term is made never NULL (coalesce, IS), so a negation stays a plain true or false.
    """
    csat, nps = func.coalesce(C.csat, 0), func.coalesce(C.nps, -1)
    rated_high = or_(csat >= 4, nps >= 9)
    rated_low = or_(csat.between(1, 2), nps.between(0, 6))
    sentiment = func.coalesce(C.sentiment, "")
    satisfied = and_(not_(rated_low), or_(
        rated_high, and_(sentiment == "positive", func.coalesce(C.intent, "") != "complaint")))
    at_risk = and_(not_(satisfied), or_(sentiment == "negative", rated_low,
                                        C.escalated_level.is_not(None)))
    return {"satisfied": satisfied, "at_risk": at_risk,
            "suggestions": func.coalesce(C.intent, "") == "suggestion"}


def counts(conditions):
    """Return {group: how many conversations `conditions` select are in it}."""
    rules = group_rules()
    query = db.select(
        *(func.sum(case((rules[group], 1), else_=0)) for group in GROUPS)).where(*conditions)
    return dict(zip(GROUPS, (value or 0 for value in db.session.execute(query).one()),
                    strict=True))


def members(group, conditions, limit=LIST_MAX):
    """Return the newest rows (id, created_at, sentiment, intent, csat, nps) of `group`."""
    query = db.select(C.id, C.created_at, C.sentiment, C.intent, C.csat, C.nps).where(
        *conditions, group_rules()[group]).order_by(C.created_at.desc(), C.id.desc())
    return db.session.execute(query.limit(limit)).all()
