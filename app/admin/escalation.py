"""Escalation policy and business hours: how a neglected conversation climbs, and when."""
from datetime import time

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import bp, current_brand
from app.admin.settings_forms import BusinessHoursForm, EscalationLevelForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import Escalation, EscalationLevel, StaffMember, Team, db
from models.brand import WEEKDAYS
from models.staff import ROLES


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
        "admin/escalation.html", levels=EscalationLevel.for_brand(brand.id), form=form,
        hours=hours, weekdays=WEEKDAYS,
        targets={choice.value: choice.label for choice in form.target.choices}), status


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


def add_level(brand, target, **level):
    """Append a level turning to `target` ("role:lead", "team:3", "staff:7"): it climbs last."""
    kind, _colon, value = target.partition(":")
    last = max((lv.position for lv in EscalationLevel.for_brand(brand.id)), default=-1)
    db.session.add(EscalationLevel(brand_id=brand.id, position=last + 1, target_kind=kind,
                                   target_value=value, **level))
    db.session.commit()


@bp.route("/escalation", methods=["GET", "POST"])
@requires("escalation.edit")
def escalation_policy():
    """Show the levels and business hours; add a level."""
    brand = current_brand()
    if request.method == "GET":
        return _page(brand, *_forms(brand))
    form, hours = _forms(brand, posting="level")
    if not form.validate():
        return _page(brand, form, hours, status=422)
    add_level(brand, form.target.data, waits_for=form.waits_for.data, action=form.act.data,
              after_seconds=form.after_minutes.data * 60,
              urgent_after_seconds=form.urgent_after_minutes.data * 60)
    return see_other(url_for("admin.escalation_policy"))


@bp.post("/escalation/<int:level_id>/delete")
@requires("escalation.edit")
def delete_escalation_level(level_id):
    """Delete a level; the deadlines it set go with it (the timeline keeps what fired)."""
    level = brand_scoped(current_user, EscalationLevel, level_id)
    db.session.execute(db.delete(Escalation).filter_by(level_id=level.id))
    db.session.delete(level)
    db.session.commit()
    return see_other(url_for("admin.escalation_policy"))


@bp.post("/escalation/hours")
@requires("escalation.edit")
def business_hours():
    """Save the brand's opening hours, in its time zone."""
    brand = current_brand()
    form, hours = _forms(brand, posting="hours")
    if not hours.validate():
        return _page(brand, form, hours, status=422)
    brand.business_hours = hours.hours()
    db.session.commit()
    return see_other(url_for("admin.escalation_policy"))
