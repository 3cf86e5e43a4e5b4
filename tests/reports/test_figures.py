"""The figures against a hand-worked week, on SQLite and PostgreSQL."""
from datetime import date, timedelta

import pytest

from app.reports import figures, stats
from app.reports.period import Filters, Period
from models import Escalation, EscalationLevel, db

from .conftest import MONDAY, add, member, rate

PERIOD = Period(date(2026, 3, 2), date(2026, 3, 8), "Europe/Istanbul")


def scope_of(email="manager@demo.example", **filters):
    return figures.seen_by(member(email), Filters(**filters))


def test_percentiles_interpolate_as_postgresql_does():
    assert stats.percentile([60, 120, 120, 300, 600], 0.5) == 120
    assert stats.percentile([60, 120, 120, 300, 600], 0.9) == pytest.approx(480)
    assert stats.percentile([10], 0.9) == 10 and stats.percentile([], 0.5) is None


def test_first_response_median_p90_mean_and_target(app, week):
    found = figures.first_response(scope_of(), PERIOD, week[0].brand)["wall"]
    assert found["count"] == 5
    assert found["median"] == pytest.approx(120)
    assert found["p90"] == pytest.approx(480)
    assert found["mean"] == pytest.approx(240)
    assert found["within"] == 3 and found["within_share"] == pytest.approx(0.6)


def test_first_response_in_business_hours_across_midnight_and_a_weekend(app, demo):
    demo.business_hours = {day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu",
                                                                "fri")}
    db.session.commit()
    # Monday 17:00 -> Tuesday 10:00 Istanbul: 2 h open; Friday 17:30 -> Monday 09:30: 1 h.
    add(demo, MONDAY.replace(hour=14), first=17 * 3600)
    add(demo, MONDAY.replace(day=6, hour=14, minute=30), first=64 * 3600)
    found = figures.first_response(scope_of(), PERIOD, demo)
    assert found["wall"]["median"] == pytest.approx((17 + 64) * 3600 / 2)
    assert found["business"]["count"] == 2
    assert found["business"]["median"] == pytest.approx(5400)
    assert found["business"]["p90"] == pytest.approx(3600 + 0.9 * 3600)
    assert found["business"]["within"] == 0


def test_resolution_and_on_the_spot(app, week):
    found = figures.resolution(scope_of(), PERIOD, week[0].brand)["stats"]
    # Resolved after first + 1800 n: 60, 1920, 3720, 5700, 7800 seconds.
    assert found["count"] == 5 and found["median"] == pytest.approx(3720)
    assert found["p90"] == pytest.approx(5700 + 0.6 * 2100)
    assert found["within"] == 2  # within the 60-minute visit (3720 s is past it)


def test_volume_by_local_day_hour_category_and_touchpoint(app, week):
    demo = week[0].brand
    # 23:30 UTC on Sunday 1 March is 02:30 on Monday 2 March in Istanbul: in the week.
    add(demo, MONDAY.replace(day=1, hour=23, minute=30), touchpoint=demo.touchpoints[1])
    found = figures.volume(scope_of(), PERIOD)
    assert found["total"] == 6 and found["messages"] == 6
    assert found["days"][0] == (date(2026, 3, 2), 6, 6)
    assert found["heat"][0][2] == 1 and found["heat"][0][12] == 1 and found["heat"][0][16] == 1
    assert dict(found["by_touchpoint"]) == {demo.touchpoints[0].id: 5,
                                           demo.touchpoints[1].id: 1}
    assert dict(found["by_category"]) == {None: 6}


def test_a_message_of_the_period_in_an_older_conversation_is_counted(app, week):
    """Counted by when it was written: the conversation began the week before."""
    older = add(week[0].brand, MONDAY - timedelta(days=5))
    later = older.add_message("customer", "Still no towels")
    db.session.flush()
    later.created_at = older.last_message_at = MONDAY + timedelta(hours=3)
    db.session.commit()
    found = figures.volume(scope_of(), PERIOD)
    assert found["total"] == 5 and found["messages"] == 6


def test_satisfaction_counts_each_conversations_latest_rating(app, week):
    rate(week[0], csat=2)
    rate(week[0], csat=5, round_=2)  # reopened, resolved again, rated again: 5 counts
    rate(week[1], csat=4, nps=10)
    rate(week[2], csat=1, nps=3)
    rate(week[3], nps=8)
    found = figures.satisfaction(scope_of(), PERIOD, week[0].brand)
    assert found["csat_answers"] == 3 and found["csat"] == pytest.approx(2 / 3)
    assert found["answer_rate"] == pytest.approx(3 / 5)
    assert (found["nps_answers"], found["promoters"], found["detractors"]) == (3, 1, 1)
    assert found["nps"] == 0 and found["asks_nps"]


def test_sentiment_escalations_and_agents(app, week):
    demo, agent = week[0].brand, member("agent@demo.example")
    levels = EscalationLevel.for_brand(demo.id)  # the demo's chain: lead, then manager
    db.session.add_all([Escalation(conversation_id=week[0].id, level_id=levels[0].id,
                                   due_at=MONDAY, fired_at=MONDAY),
                        Escalation(conversation_id=week[0].id, level_id=levels[1].id,
                                   due_at=MONDAY, fired_at=None)])
    db.session.commit()
    assert figures.escalations(scope_of(), PERIOD, demo.id) == [(1, 1), (2, 0)]
    days = dict(figures.sentiment_by_day(scope_of(), PERIOD))
    assert days[date(2026, 3, 2)] == {"positive": 5, "neutral": 0, "negative": 0}
    assert days[date(2026, 3, 2) + timedelta(days=1)]["positive"] == 0
    rate(week[0], csat=5)
    [(who, count, median, csat)] = figures.agents(scope_of(), PERIOD, demo)
    assert (who, count, csat) == (agent.id, 5, 1.0) and median == pytest.approx(120)


def test_filters_narrow_every_figure(app, week):
    demo = week[0].brand
    add(demo, MONDAY, first=30, touchpoint=demo.touchpoints[2])
    only = scope_of(touchpoint_id=demo.touchpoints[2].id)
    assert figures.first_response(only, PERIOD, demo)["wall"]["count"] == 1
    assert figures.volume(scope_of(agent_id=member("agent@demo.example").id),
                          PERIOD)["total"] == 5


def test_per_agent_pass_matches_the_brand_figures_and_each_agent_alone(app, week):
    """One pass with GROUPING SETS: the all-rows figures equal the plain ones, and an
    unassigned conversation counts for the brand but for no agent."""
    demo, agent = week[0].brand, member("agent@demo.example")
    add(demo, MONDAY, first=900)  # nobody's
    plain = figures.first_response(scope_of(), PERIOD, demo)
    both = figures.first_response(scope_of(), PERIOD, demo, per_agent=True)
    assert both["wall"] == plain["wall"] and both["wall"]["count"] == 6
    assert set(both["per_agent"]) == {agent.id}
    alone = figures.first_response(scope_of(agent_id=agent.id), PERIOD, demo)["wall"]
    assert both["per_agent"][agent.id] == alone and alone["count"] == 5
