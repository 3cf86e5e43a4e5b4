"""The teams page: the brand's teams and their members; create, rename, delete, members."""
from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp, people, rosters
from app.admin.problems import SetupProblem
from app.admin.staff_forms import MemberForm, TeamForm, form_problems
from app.core.forms import ActionForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import StaffMember, Team, db


def _page(status=200, form=None, failed=None, posted_name=None):
    """Render the teams page; `failed`: {("team", id): [why]} under the form that failed."""
    teams = rosters.teams_of(current_user.brand_id)
    # Only people one may change can be put in or taken out (as on the staff page).
    active = [s for s in people.staff_of(current_user.brand_id)
              if s.active and people.may_change(current_user, s)]
    return render_template(
        "admin/teams.html", teams=teams, form=form or TeamForm(formdata=None),
        failed=failed or {}, posted_name=posted_name,
        may_change=lambda person: people.may_change(current_user, person),
        candidates={t.id: [s for s in active if s not in t.members] for t in teams},
        delete_problems={t.id: rosters.delete_problem(t) for t in teams}), status


def _back(team=None):
    return see_other(url_for("admin.teams", _anchor=f"team-{team.id}" if team else None))


@bp.route("/teams", methods=["GET", "POST"])
@requires("teams.edit")
def teams():
    """List the brand's teams with their members; create one."""
    form = TeamForm()
    if not form.is_submitted():
        return _page(form=form)
    if form.validate():
        try:
            team = rosters.create_team(current_user.brand_id, form.name.data)
        except SetupProblem as problem:
            form.name.errors = [*form.name.errors, str(problem)]
        else:
            flash(_("Team “%(team)s” created: add its members below.", team=team.name))
            return _back(team)
    return _page(422, form=form)


def _change(team_id, form, call, done, stays=True):
    """Apply `call(team)` if `form` is valid and flash `done`, else show why (422)."""
    team = brand_scoped(current_user, Team, team_id)
    if form.validate_on_submit():
        try:
            result = call(team)
        except SetupProblem as problem:
            db.session.rollback()  # nothing half-changed stays in the session
            errors = [str(problem)]
        else:
            flash(done(team, result))
            return _back(team if stays else None)
    else:
        errors = form_problems(form)
    return _page(422, failed={("team", team_id): errors},
                 posted_name=getattr(getattr(form, "name", None), "data", None))


@bp.post("/teams/<int:team_id>/rename")
@requires("teams.edit")
def team_rename(team_id):
    """Rename a team (its address for the API stays)."""
    form = TeamForm()
    return _change(team_id, form, lambda team: rosters.rename_team(team, form.name.data),
                   lambda team, _r: _("Renamed to “%(team)s”.", team=team.name))


@bp.post("/teams/<int:team_id>/delete")
@requires("teams.edit")
def team_delete(team_id):
    """Delete a team nothing refers to; one in use is refused with the reason."""
    name = brand_scoped(current_user, Team, team_id).name
    return _change(team_id, ActionForm(), rosters.delete_team,
                   lambda _t, _r: _("Team “%(team)s” deleted.", team=name), stays=False)


@bp.post("/teams/<int:team_id>/members")
@requires("teams.edit")
def team_add_member(team_id):
    """Put a member of staff into a team."""
    team = brand_scoped(current_user, Team, team_id)
    form = MemberForm([s for s in people.staff_of(team.brand_id) if s.active])
    return _change(team_id, form,
                   lambda t: rosters.add_member(current_user, t, form.staff.data),
                   lambda t, added: _("%(name)s is in “%(team)s” now.", name=added.name,
                                      team=t.name))


@bp.post("/teams/<int:team_id>/members/<int:staff_id>/remove")
@requires("teams.edit")
def team_remove_member(team_id, staff_id):
    """Take a member of staff out of a team."""
    member = brand_scoped(current_user, StaffMember, staff_id)
    return _change(team_id, ActionForm(),
                   lambda t: rosters.remove_member(current_user, t, member),
                   lambda t, _r: _("%(name)s is no longer in “%(team)s”.", name=member.name,
                                   team=t.name))
