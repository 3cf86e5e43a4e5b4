"""Routing rules: leads and managers say which team each kind of conversation goes to."""
from flask import abort, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from app.extensions import db
from app.inbox import bp
from app.inbox.forms import ActionForm, RoutingRuleForm
from models import Brand, RoutingRule, Team, Touchpoint

EDITORS = ("lead", "manager", "admin")


def _require_editor():
    if current_user.role not in EDITORS:
        abort(403)


def rule_form(brand, formdata=None):
    """Return the rule form with the brand's categories, places and teams as its choices."""
    form = RoutingRuleForm() if formdata is None else RoutingRuleForm(formdata=formdata)
    language = str(get_locale())
    form.category.choices = [SelectChoice("", _("Any"))] + [
        SelectChoice(c.slug, c.label(language)) for c in brand.active_categories()]
    form.touchpoint.choices = [SelectChoice("", _("Any"))] + [
        SelectChoice(str(t.id), t.label) for t in db.session.scalars(
            db.select(Touchpoint).filter_by(brand_id=brand.id).order_by(Touchpoint.position))]
    form.team.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(t.id), t.name) for t in db.session.scalars(
            db.select(Team).filter_by(brand_id=brand.id).order_by(Team.name))]
    return form


def _page(brand, form, status=200):
    return render_template("inbox/rules.html", rules=RoutingRule.for_brand(brand.id), form=form,
                           can_edit=current_user.role in EDITORS,
                           action_form=ActionForm(formdata=None)), status


@bp.route("/routing", methods=["GET", "POST"])
def routing_rules():
    """List the brand's routing rules in order; leads and managers add one."""
    brand = db.session.get(Brand, current_user.brand_id)
    form = rule_form(brand)
    if form.is_submitted():
        _require_editor()
    if form.validate_on_submit():
        last = max((rule.position for rule in RoutingRule.for_brand(brand.id)), default=0)
        db.session.add(RoutingRule(
            brand_id=brand.id, position=last + 1, category=form.category.data or None,
            touchpoint_id=int(form.touchpoint.data) if form.touchpoint.data else None,
            urgency=form.urgency.data or None, language=form.language.data or None,
            team_id=int(form.team.data)))
        db.session.commit()
        return see_other(url_for("inbox.routing_rules"))
    return _page(brand, form, status=422 if form.errors else 200)


@bp.post("/routing/<int:rule_id>/delete")
def delete_routing_rule(rule_id):
    rule = brand_scoped(current_user, RoutingRule, rule_id)  # 404 before 403
    _require_editor()
    if ActionForm().validate_on_submit():
        db.session.delete(rule)
        db.session.commit()
    return see_other(url_for("inbox.routing_rules"))
