"""The brand's directory (places, categories, teams, staff) and its report figures."""
from flask import request
from flask_smorest import abort
from marshmallow import RAISE

from app.api import bp
from app.api import schemas as s
from app.api.auth import principal
from app.api.conversations import answers
from app.reports import figures, period
from models import Brand, Category, StaffMember, Team, Touchpoint, db


def _of_brand(model, *order):
    return db.session.scalars(db.select(model).filter_by(brand_id=principal().brand_id)
                              .order_by(*order, model.id)).all()


@bp.get("/touchpoints")
@bp.response(200, s.Touchpoint(many=True))
@answers()
def list_touchpoints():
    """The brand's places: rooms, tables, links, the site's chat bubble."""
    return _of_brand(Touchpoint, Touchpoint.position)


@bp.get("/categories")
@bp.response(200, s.Category(many=True))
@answers()
def list_categories():
    """The brand's categories, labelled in the brand's language."""
    brand = db.session.get(Brand, principal().brand_id)
    return [{"id": c.id, "slug": c.slug, "label": c.label(brand.default_language),
             "active": c.active} for c in _of_brand(Category, Category.position)]


@bp.get("/teams")
@bp.response(200, s.Team(many=True))
@answers()
def list_teams():
    """The brand's teams."""
    return _of_brand(Team, Team.name)


@bp.get("/staff")
@bp.response(200, s.Staff(many=True))
@answers()
def list_staff():
    """The brand's staff, with their role and whether they are active."""
    return _of_brand(StaffMember, StaffMember.name)


@bp.get("/reports")
@bp.arguments(s.ReportQuery, location="query", as_kwargs=False, unknown=RAISE)
@bp.response(200, s.Report)
@answers()
def get_report(_args):
    """The report page's figures for a period (today, 7d, 30d or custom start..end in the
    brand's time zone) and filters, for the whole brand."""
    brand = db.session.get(Brand, principal().brand_id)
    form, chosen, filters = period.parse(request.args, principal(), brand,
                                         brand.default_language)
    if chosen is None:
        errors = {name: " ".join(map(str, texts)) for name, texts in form.errors.items()}
        abort(422, message="; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)
    return report_data(figures.report(principal(), filters, chosen, brand))


def _stats(found):
    return None if found is None else {k: found[k] for k in (
        "count", "median", "p90", "mean", "within", "within_share")}


def report_data(report):
    """Return the report's figures as JSON-ready values."""
    volume, answered = report["volume"], report["first_response"]
    chosen = report["period"]
    return {
        "period": {"first": chosen.first.isoformat(), "last": chosen.last.isoformat(),
                   "timezone": chosen.timezone},
        "volume": {"conversations": volume["total"], "customer_messages": volume["messages"],
                   "days": [{"date": day.isoformat(), "conversations": c, "messages": m}
                            for day, c, m in volume["days"]],
                   "hour_of_week": volume["heat"],
                   "by_category": [{"category_id": k, "conversations": n}
                                   for k, n in volume["by_category"]],
                   "by_touchpoint": [{"touchpoint_id": k, "conversations": n}
                                     for k, n in volume["by_touchpoint"]]},
        "first_response": {"wall_clock": _stats(answered["wall"]),
                           "business_hours": _stats(answered["business"]),
                           "target_minutes": answered["target_minutes"]},
        "resolution": {**(_stats(report["resolution"]["stats"]) or {}),
                       "visit_minutes": report["resolution"]["visit_minutes"]},
        "satisfaction": report["satisfaction"],
        "survey": [{"question_id": q.id, "prompt": q.prompt, "kind": q.kind,
                    "answers": dict(counts)} for q, counts in report["survey"]],
        "sentiment": [{"date": day.isoformat(), **counts} for day, counts in report["sentiment"]],
        "escalations": [{"level": level, "fired": n} for level, n in report["escalations"]],
        "agents": [{"staff_id": who, "conversations": n, "first_response_median": median,
                    "csat": csat} for who, n, median, csat in report["agents"]],
        "groups": {group: {"count": report["groups"][group],
                           "previous_period": report["groups_before"][group],
                           "conversation_ids": [row.id for row in report["members"][group]]}
                   for group in report["groups"]},
    }
