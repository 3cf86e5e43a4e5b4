"""Alert settings: each member of staff says where alerts reach them, and tries it."""
from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.alerts.service import test_alert
from app.core.forms import ActionForm
from app.core.rendering import see_other
from app.extensions import db
from app.inbox import bp
from app.inbox.forms import AlertTargetForm, QuietHoursForm
from models import AlertTarget


def _page(form, tried=None, problem=None, status=200, quiet_form=None):
    targets = AlertTarget.of_staff([current_user.id])
    quiet_form = quiet_form or QuietHoursForm(formdata=None, obj=current_user)
    return render_template("inbox/alerts.html", targets=targets, form=form, tried=tried,
                           problem=problem, quiet_form=quiet_form,
                           action_form=ActionForm(formdata=None)), status


def _own_target(target_id):
    """Return the current user's alert target, or 404: nobody edits another's channels."""
    target = db.session.get(AlertTarget, target_id)
    if target is None or target.staff_id != current_user.id:
        abort(404)
    return target


@bp.route("/alerts", methods=["GET", "POST"])
def alert_settings():
    form = AlertTargetForm()
    if form.validate_on_submit():
        db.session.add(AlertTarget(brand_id=current_user.brand_id, staff_id=current_user.id,
                                   label=form.label.data, url=form.url.data))
        try:
            db.session.commit()
            return see_other(url_for("inbox.alert_settings"))
        except IntegrityError:
            db.session.rollback()
            form.url.errors = [_("You already receive alerts at that address.")]
    return _page(form, status=422 if form.errors else 200)


@bp.post("/alerts/<int:target_id>/test")
def test_alert_target(target_id):
    target = _own_target(target_id)
    if not ActionForm().validate_on_submit():
        return see_other(url_for("inbox.alert_settings"))
    problem = test_alert(current_user, target)
    return _page(AlertTargetForm(formdata=None), tried=target, problem=problem,
                 status=200 if problem is None else 502)


@bp.post("/alerts/<int:target_id>/delete")
def delete_alert_target(target_id):
    target = _own_target(target_id)
    if ActionForm().validate_on_submit():
        db.session.delete(target)
        db.session.commit()
    return see_other(url_for("inbox.alert_settings"))


@bp.post("/alerts/quiet")
def quiet_hours():
    form = QuietHoursForm()
    if not form.validate_on_submit():
        return _page(AlertTargetForm(formdata=None), quiet_form=form, status=422)
    current_user.quiet_from, current_user.quiet_until = form.quiet_from.data, form.quiet_until.data
    db.session.commit()
    return see_other(url_for("inbox.alert_settings"))
