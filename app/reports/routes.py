"""The report page and its CSV export: thin views over period, figures, groups and export."""
from flask import Response, render_template, request, stream_with_context
from flask_babel import get_locale
from flask_login import current_user

from app.core.permissions import requires
from app.reports import bp, export, figures, period
from app.reports.forms import MAX_DAYS
from app.reports.page import chart_context
from models import Brand, db


def _read():
    brand = db.session.get(Brand, current_user.brand_id)
    language = str(get_locale())
    form, chosen, filters = period.parse(request.args, current_user, brand, language)
    return brand, language, form, chosen, filters


@bp.get("/")
@requires("reports.view")
def index():
    brand, language, form, chosen, filters = _read()
    if chosen is None:  # the form says what is wrong; nothing is computed from bad input
        return render_template("reports/index.html", form=form, report=None,
                               max_days=MAX_DAYS), 400
    report = figures.report(current_user, filters, chosen, brand)
    return render_template("reports/index.html", form=form, report=report, brand=brand,
                           max_days=MAX_DAYS, export_args=period.query_args(form),
                           **chart_context(report, form, language))


@bp.get("/conversations.csv")
@requires("reports.export")
def conversations_csv():
    brand, language, form, chosen, filters = _read()
    if chosen is None:
        return render_template("reports/index.html", form=form, report=None,
                               max_days=MAX_DAYS), 400
    body = export.rows(figures.seen_by(current_user, filters), chosen, brand, language)
    name = f"kulak-{brand.slug}-{chosen.first.isoformat()}-{chosen.last.isoformat()}.csv"
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
