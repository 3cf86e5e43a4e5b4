"""Escalation policy and business hours: managers say how a neglected conversation climbs."""
from datetime import time

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from app.extensions import db
from app.inbox import bp
from app.inbox.forms import ActionForm, BusinessHoursForm, EscalationLevelForm
from models import Brand, Escalation, EscalationLevel, StaffMember, Team
from models.brand import WEEKDAYS
from models.staff import ROLES

POLICY_EDITORS = ("manager", "admin")


def _require_editor():
    if current_user.role not in POLICY_EDITORS:
        abort(403)


def target_choices(brand_id):
    """Whom a level may turn to: everyone of a role, a team, or one member of staff."""
    roles = {"agent": _("agents"), "lead": _("team leads"), "manager": _("managers"),
             "admin": _("admins")}
    return [SelectChoice(f"role:{role}", _("All %(role)s", role=roles[role])) for role in ROLES] + [
        SelectChoice(f"team:{team.id}", _("Team %(name)s", name=team.name))
        for team in db.session.scalars(db.select(Team).filter_by(brand_id=brand_id))] + [
        SelectChoice(f"staff:{staff.id}", staff.name) for staff in db.session.scalars(
            db.select(StaffMember).filter_by(brand_id=brand_id, active=True)
            .order_by(StaffMember.name))]


def _page(brand, form, hours, status=200):
    return render_template(
        "inbox/escalation.html", levels=EscalationLevel.for_brand(brand.id), form=form,
        hours=hours, weekdays=WEEKDAYS, can_edit=current_user.role in POLICY_EDITORS,
        targets={choice.value: choice.label for choice in form.target.choices},
        action_form=ActionForm(formdata=None)), status


def _forms(brand, posting=None):
    """Return (level form, hours form); only the one being posted reads the request."""
    form = EscalationLevelForm() if posting == "level" else EscalationLevelForm(formdata=None)
    form.target.choices = target_choices(brand.id)
    hours = BusinessHoursForm() if posting == "hours" else BusinessHoursForm(formdata=None)
    if posting != "hours":
        for day, (opens, closes) in brand.business_hours.items():
            hours[f"{day}_opens"].data = time.fromisoformat(opens)
            hours[f"{day}_closes"].data = time.fromisoformat(closes)
    return form, hours


@bp.route("/escalation", methods=["GET", "POST"])
def escalation_policy():
    brand = db.session.get(Brand, current_user.brand_id)
    if request.method == "GET":
        return _page(brand, *_forms(brand))
    _require_editor()
    form, hours = _forms(brand, posting="level")
    if not form.validate():
        return _page(brand, form, hours, status=422)
    kind, _colon, value = form.target.data.partition(":")
    db.session.add(EscalationLevel(
        brand_id=brand.id, position=max((lv.position for lv in EscalationLevel.for_brand(
            brand.id)), default=-1) + 1,
        waits_for=form.waits_for.data, after_seconds=form.after_minutes.data * 60,
        urgent_after_seconds=form.urgent_after_minutes.data * 60, action=form.act.data,
        target_kind=kind, target_value=value))
    db.session.commit()
    return see_other(url_for("inbox.escalation_policy"))


@bp.post("/escalation/<int:level_id>/delete")
def delete_escalation_level(level_id):
    level = brand_scoped(current_user, EscalationLevel, level_id)  # 404 before 403
    _require_editor()
    if ActionForm().validate_on_submit():
        # Its deadlines go with it (the timeline keeps what already fired).
        db.session.execute(db.delete(Escalation).filter_by(level_id=level.id))
        db.session.delete(level)
        db.session.commit()
    return see_other(url_for("inbox.escalation_policy"))


@bp.post("/escalation/hours")
def business_hours():
    _require_editor()
    brand = db.session.get(Brand, current_user.brand_id)
    form, hours = _forms(brand, posting="hours")
    if not hours.validate():
        return _page(brand, form, hours, status=422)
    brand.business_hours = hours.hours()
    db.session.commit()
    return see_other(url_for("inbox.escalation_policy"))
