"""What the report page shows beside the figures: names for ids, charts, labels."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.reports import charts, groups
from models import Category, StaffMember, Touchpoint, db

SENTIMENT_NAMES = {"positive": _l("Positive"), "neutral": _l("Neutral"),
                   "negative": _l("Negative")}
WEEKDAY_NAMES = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
HEAT_STEPS = 5


def names(brand_id, language):
    """Return {kind: {id: name}} for the brand's places, categories and staff."""
    none = {None: str(_l("None"))}
    return {
        "touchpoint": none | dict(db.session.execute(db.select(
            Touchpoint.id, Touchpoint.label).where(Touchpoint.brand_id == brand_id)).all()),
        "category": none | {c.id: c.label(language) for c in db.session.scalars(
            db.select(Category).filter_by(brand_id=brand_id))},
        "staff": {s.id: s.name or s.email for s in db.session.scalars(
            db.select(StaffMember).filter_by(brand_id=brand_id))}}


def heat_levels(heat):
    """Return the heat map's cells as shade steps 0..HEAT_STEPS (CSS classes, no inline
    style: the CSP admits none)."""
    top = max((count for row in heat for count in row), default=0)
    return [[0 if not top or not count else max(1, round(HEAT_STEPS * count / top))
             for count in row] for row in heat]


def chart_context(report, form, language):
    """Return the names, heat map shades and chart images the page template needs."""
    named = names(current_user.brand_id, language)
    volume = report["volume"]
    days = [day.strftime("%d.%m") for day, *_counts in volume["days"]]
    by_category = [(named["category"].get(key, key), count)
                   for key, count in volume["by_category"]]
    by_touchpoint = [(named["touchpoint"].get(key, key), count)
                     for key, count in volume["by_touchpoint"]]
    escalations = report["escalations"]
    return {
        "names": named, "heat_levels": heat_levels(volume["heat"]),
        "weekday_names": WEEKDAY_NAMES, "sentiment_names": SENTIMENT_NAMES,
        "by_category": by_category, "groups_order": groups.GROUPS,
        "group_titles": groups.TITLES, "group_rules_text": groups.RULES,
        "sentiment_rows": [(day, *(counts[key] for key in SENTIMENT_NAMES))
                           for day, counts in report["sentiment"]], "by_touchpoint": by_touchpoint,
        "volume_chart": charts.bars(_l("Conversations and customer messages per day"), days, [
            (_l("Conversations"), [row[1] for row in volume["days"]]),
            (_l("Customer messages"), [row[2] for row in volume["days"]])]),
        "category_chart": by_category and charts.bars(
            _l("Conversations by category"), [n for n, _c in by_category],
            [(_l("Conversations"), [c for _n, c in by_category])], horizontal=True),
        "touchpoint_chart": by_touchpoint and charts.bars(
            _l("Conversations by place"), [n for n, _c in by_touchpoint],
            [(_l("Conversations"), [c for _n, c in by_touchpoint])], horizontal=True),
        "sentiment_chart": charts.sentiment_chart(
            _l("Sentiment of each day's conversations"), report["sentiment"],
            SENTIMENT_NAMES),
        "escalation_chart": escalations and charts.bars(
            _l("Escalations by level"), [str(level) for level, _n in escalations],
            [(_l("Escalations"), [n for _level, n in escalations])]),
    }
