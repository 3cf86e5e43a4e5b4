"""The report's figures, each aggregated in SQL over the conversations a person may see."""
from collections import Counter

from sqlalchemy import DateTime, String, and_, case, cast, column, func, or_, values

from app.core.permissions import can
from app.core.scoping import conversation_scope
from app.reports import groups, stats
from app.reports.hours import open_intervals
from app.reports.tally import by_owner, by_time, in_period, local_buckets, summed
from models import (
    Answer,
    Conversation,
    Escalation,
    EscalationLevel,
    Message,
    Question,
    SurveyResponse,
    db,
)

SENTIMENTS = ("positive", "neutral", "negative")
C = Conversation


def seen_by(staff, filters):
    """Return the conditions on Conversation for what `staff` sees with `filters`: agents what
    was assigned to them, leads their scope, managers the brand."""
    if can(staff, "inbox.see_team"):
        conditions = [conversation_scope(staff)]
    else:
        conditions = [C.brand_id == staff.brand_id, C.assignee_id == staff.id]
        if staff.touchpoint_ids is not None:
            conditions.append(C.touchpoint_id.in_(staff.touchpoint_ids))
    for field, value in ((C.touchpoint_id, filters.touchpoint_id),
                          (C.category_id, filters.category_id), (C.team_id, filters.team_id),
                          (C.assignee_id, filters.agent_id)):
        if value is not None:
            conditions.append(field == value)
    return conditions


def report(staff, filters, period, brand):
    """Return every figure of the report page for what `staff` sees with `filters`."""
    scope = seen_by(staff, filters)
    times, owners = by_time(scope, period), by_owner(scope, period)
    answered = first_response(scope, period, brand, per_agent=True)
    previous = period.previous()
    counted = summed(owners)
    now = [*scope, *in_period(period)]
    return {
        "period": period, "previous": previous,
        "volume": volume(scope, period, times, owners),
        "first_response": answered,
        "resolution": resolution(scope, period, brand),
        "satisfaction": satisfaction(scope, period, brand, owners),
        "survey": survey_answers(scope, period, staff, filters),
        "sentiment": sentiment_by_day(scope, period, times),
        "escalations": escalations(scope, period, brand.id),
        "agents": agents(scope, period, brand, owners, answered["per_agent"]),
        "groups": {group: counted[group] for group in groups.GROUPS},
        "groups_before": groups.counts([*scope, *in_period(previous)]),
        "members": {group: groups.members(group, now) for group in groups.GROUPS},
    }


def volume(scope, period, times=None, owners=None):
    """Return conversations and customer messages per day, the hour-of-week heat map, and
    conversations by category and by touchpoint."""
    days = {day: [0, 0] for day in period.dates()}
    heat = [[0] * 24 for _weekday in range(7)]
    for local, _sentiment, count in by_time(scope, period) if times is None else times:
        days[local.date()][0] += count
        heat[local.weekday()][local.hour] += count
    sent = stats.quarter_hour(Message.created_at)
    query = db.select(sent, func.count()).join(C, C.id == Message.conversation_id).where(
        *scope, *in_period(period, Message.created_at), Message.author_kind == "customer",
        Message.internal.is_(False)).group_by(sent)
    for local, count in local_buckets(query, period):
        days[local.date()][1] += count
    owners = by_owner(scope, period) if owners is None else owners
    return {"days": [(day, *counts) for day, counts in days.items()], "heat": heat,
            "by_category": _counted(owners, 0), "by_touchpoint": _counted(owners, 1),
            "total": sum(counts[0] for counts in days.values()),
            "messages": sum(counts[1] for counts in days.values())}


def _counted(owners, index):
    totals = summed(owners, index)
    return sorted(((key, counts["conversations"]) for key, counts in totals.items()),
                  key=lambda row: -row[1])


def first_response(scope, period, brand, per_agent=False):
    """Return first-response durations in wall-clock time and counted in business hours;
    with `per_agent`, each assignee's too ({assignee id: durations}), from the same pass."""
    target = brand.response_target_minutes * 60
    wall = stats.seconds_between(C.created_at, C.first_response_at)
    conditions = [*scope, *in_period(period)]
    if per_agent:
        found = stats.durations(wall, conditions, target, key=C.assignee_id, total=True)
        wall_stats = found.pop(stats.TOTAL, None)
        found.pop(None, None)
    else:
        wall_stats, found = stats.durations(wall, conditions, target).get(0), None
    return {"wall": wall_stats, "business": _business(conditions, period, brand, target),
            "target_minutes": brand.response_target_minutes, "per_agent": found,
            "has_hours": bool(brand.business_hours)}


def _business(conditions, period, brand, target):
    """Return first-response durations counting only the brand's open hours: the open
    intervals from the period's start to its last first response, joined in SQL."""
    if not brand.business_hours:
        return None
    last = db.session.scalar(db.select(func.max(C.first_response_at)).where(*conditions))
    if last is None:
        return stats.empty()
    intervals = open_intervals(period.start, max(last, period.start), brand.timezone,
                               brand.business_hours)
    if not intervals:  # closed the whole time: every answer came at no open second
        intervals = [(period.start, period.start)]
    hours = values(column("opens", DateTime), column("closes", DateTime), name="open_hours").data(intervals).cte("open_hours")
    overlap = stats.seconds_between(stats.greatest(C.created_at, hours.c.opens),
                                    stats.least(C.first_response_at, hours.c.closes))
    per_conversation = db.select(
        C.id, func.coalesce(func.sum(case((hours.c.opens.is_not(None), overlap), else_=0.0)),
                            0.0).label("seconds")
    ).outerjoin(hours, and_(hours.c.opens < C.first_response_at,
                            hours.c.closes > C.created_at)).where(
        *conditions, C.first_response_at.is_not(None)).group_by(C.id).subquery("business")
    return stats.durations(per_conversation.c.seconds, [], target).get(0)


def resolution(scope, period, brand):
    """Return resolution durations and how many were resolved during the visit."""
    seconds = stats.seconds_between(C.created_at, C.resolved_at)
    found = stats.durations(seconds, [*scope, *in_period(period), C.status == "resolved"],
                            brand.visit_minutes * 60).get(0)
    return {"stats": found, "visit_minutes": brand.visit_minutes}


def satisfaction(scope, period, brand, owners=None):
    """Return CSAT (share of 4-5), its answer rate, and NPS (promoters - detractors)."""
    # Conversation.csat and nps hold each conversation's latest answer (its newest rating).
    counted = summed(by_owner(scope, period) if owners is None else owners)
    csat_answers, happy, nps_answers, promoters, detractors, resolved = (counted[name] for name in (
        "csat_answers", "csat_high", "nps_answers", "promoters", "detractors", "resolved"))
    return {"csat_answers": csat_answers, "resolved": resolved,
            "csat": happy / csat_answers if csat_answers else None,
            "answer_rate": csat_answers / resolved if resolved else None,
            "nps_answers": nps_answers, "promoters": promoters, "detractors": detractors,
            "nps": round(100 * (promoters - detractors) / nps_answers) if nps_answers else None,
            "asks_nps": brand.rating_mode in ("nps", "both") or nps_answers > 0}


def survey_answers(scope, period, staff, filters):
    """Return [(question, Counter of answers)] for the period's survey answers."""
    ids = db.select(C.id).where(*scope, *in_period(period))
    linked = SurveyResponse.conversation_id.in_(ids)
    if can(staff, "inbox.see_all") and filters.category_id is filters.team_id is \
            filters.agent_id is None:
        # A survey answered by someone who then wrote nothing belongs to the brand's figures.
        loose = [SurveyResponse.conversation_id.is_(None), SurveyResponse.brand_id ==
                 staff.brand_id, *in_period(period, SurveyResponse.created_at)]
        if filters.touchpoint_id is not None:
            loose.append(SurveyResponse.touchpoint_id == filters.touchpoint_id)
        linked = or_(linked, and_(*loose))
    value = func.coalesce(cast(Answer.number, String), Answer.text)
    query = db.select(Answer.question_id, value, func.count()).join(SurveyResponse).join(
        Question).where(linked, Question.kind != "text").group_by(Answer.question_id, value)
    counts = {}
    for question_id, answer, count in db.session.execute(query):
        counts.setdefault(question_id, Counter())[answer] += count
    questions = db.session.scalars(db.select(Question).where(Question.id.in_(list(counts)))
                                   .order_by(Question.survey_id, Question.position)).all()
    return [(question, counts[question.id]) for question in questions]


def sentiment_by_day(scope, period, times=None):
    """Return [(day, {sentiment: count})] of the period's conversations."""
    days = {day: dict.fromkeys(SENTIMENTS, 0) for day in period.dates()}
    for local, sentiment, count in by_time(scope, period) if times is None else times:
        if sentiment in SENTIMENTS:
            days[local.date()][sentiment] += count
    return list(days.items())


def escalations(scope, period, brand_id):
    """Return [(level number, fired count)], the first level of the chain being 1."""
    levels = [level.id for level in EscalationLevel.for_brand(brand_id)]
    query = db.select(Escalation.level_id, func.count()).join(
        C, C.id == Escalation.conversation_id).where(
        *scope, *in_period(period), Escalation.fired_at.is_not(None)).group_by(
        Escalation.level_id)
    fired = dict(db.session.execute(query).all())
    return [(number, fired.get(level_id, 0)) for number, level_id in enumerate(levels, 1)]


def agents(scope, period, brand, owners=None, medians=None):
    """Return [(assignee id, conversations, first response median, CSAT share)]."""
    counts = summed(by_owner(scope, period) if owners is None else owners, 2)
    counts.pop(None, None)
    if medians is None:
        medians = first_response(scope, period, brand, per_agent=True)["per_agent"]
    return [(key, found["conversations"], medians.get(key, {}).get("median"),
             found["csat_high"] / found["csat_answers"] if found["csat_answers"] else None)
            for key, found in sorted(counts.items(), key=lambda item: -item[1]["conversations"])]
