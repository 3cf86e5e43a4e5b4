"""Routing rules: which team each kind of conversation goes to."""
from flask import render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import bp, current_brand
from app.admin.settings_forms import RoutingRuleForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import RoutingRule, Team, Touchpoint, db


def rule_form(brand):
    """Return the rule form with the brand's categories, places and teams as its choices."""
    form = RoutingRuleForm()
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


def add_rule(brand, team_id, **conditions):
    """Append a rule sending what matches `conditions` to the team: it is tried last."""
    last = max((rule.position for rule in RoutingRule.for_brand(brand.id)), default=0)
    db.session.add(RoutingRule(brand_id=brand.id, position=last + 1, team_id=team_id,
                               **conditions))
    db.session.commit()


@bp.route("/routing", methods=["GET", "POST"])
@requires("routing.edit")
def routing_rules():
    """List the brand's routing rules in order; add one."""
    brand = current_brand()
    form = rule_form(brand)
    if form.validate_on_submit():
        add_rule(brand, int(form.team.data), category=form.category.data or None,
                 touchpoint_id=int(form.touchpoint.data) if form.touchpoint.data else None,
                 urgency=form.urgency.data or None, language=form.language.data or None)
        return see_other(url_for("admin.routing_rules"))
    return render_template("admin/rules.html", rules=RoutingRule.for_brand(brand.id),
                           form=form), 422 if form.errors else 200


@bp.post("/routing/<int:rule_id>/delete")
@requires("routing.edit")
def delete_routing_rule(rule_id):
    """Delete one of the brand's rules."""
    db.session.delete(brand_scoped(current_user, RoutingRule, rule_id))
    db.session.commit()
    return see_other(url_for("admin.routing_rules"))
