"""Reports: figures, charts, the three customer groups and the CSV export (/reports)."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from app.reports import routes  # noqa: E402,F401


@bp.context_processor
def staff_page_context():
    from app.core.forms import ActionForm
    return {"logout_form": ActionForm(formdata=None)}


@bp.app_template_filter("span")
def span(seconds):
    """Say a duration as "45 s", "3 min 20 s" or "2 h 5 min"; "–" for none."""
    from flask_babel import gettext as _
    if seconds is None:
        return "–"
    seconds = round(float(seconds))
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    if minutes:
        return _("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=rest)
    return _("%(seconds)d s", seconds=rest)


@bp.app_template_filter("share")
def share(fraction):
    """Say a fraction as a whole percentage; "–" when there is nothing to divide."""
    return "–" if fraction is None else f"{round(100 * fraction)} %"
