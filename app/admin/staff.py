"""The staff page: who works for the brand, pending invitations; invite, change, deactivate."""
from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.admin import bp, current_brand, invites, people, rosters
from app.admin.problems import SetupProblem
from app.admin.staff_forms import (
    EMAILS_MAX,
    AccessForm,
    InviteForm,
    RoleForm,
    form_problems,
)
from app.core.forms import ActionForm
from app.core.permissions import grantable_roles, may_grant, requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import Invitation, StaffMember, db
from models.common import utcnow


def _invite_form(brand, posted=True):
    return InviteForm(grantable_roles(current_user), rosters.teams_of(brand.id),
                      people.touchpoints_of(brand.id), **({} if posted else {"formdata": None}))


def _page(status=200, form=None, links=(), failed=None, resendable=()):
    """Render the staff page; `links`: invitations not mailed, whose links show only now."""
    brand, roles = current_brand(), grantable_roles(current_user)
    response = render_template(
        "admin/staff.html", brand=brand, members=people.staff_of(brand.id),
        invitations=invites.pending_invitations(brand.id), roles=roles,
        roles_given=people.roles_given_by(current_user),
        teams=rosters.teams_of(brand.id), touchpoints=people.touchpoints_of(brand.id),
        form=form or _invite_form(brand, posted=False), links=links, failed=failed or {},
        resendable=resendable, now=utcnow(), emails_max=EMAILS_MAX,
        max_invites=invites.MAX_INVITES, local=lambda moment: brand.local(moment).strftime(
            "%Y-%m-%d %H:%M"), may_change=lambda m: people.may_change(current_user, m),
        may_send=lambda i: may_grant(current_user, i.role))
    # A page with invitation links must not be kept by the browser or anything between.
    return response, status, {"Cache-Control": "no-store"} if links else {}


def _invited(invited):
    """Answer a sent invitation: back to the list, or (not mailed) the page with its links."""
    links = [i for i in invited if i.link]
    if links:
        flash(_("Kulak has no mail set up: give each person the link below yourself."))
        return _page(links=links)
    flash(ngettext("Invitation mailed to %(addresses)s.", "Invitations mailed to "
                   "%(addresses)s.", len(invited),
                   addresses=", ".join(i.invitation.email for i in invited)))
    return see_other(url_for("admin.staff", _anchor="invitations"))


def _attempt(key, form, call):
    """Return (`call()`, None) if `form` is valid, else (None, the page saying why: 422)."""
    if not form.validate_on_submit():
        return None, _page(422, failed={key: form_problems(form)})
    try:
        return call(), None
    except SetupProblem as problem:
        db.session.rollback()  # nothing half-changed stays in the session
        return None, _page(422, failed={key: [str(problem)]})


@bp.get("/staff")
@requires("staff.manage")
def staff():
    """List the brand's staff and pending invitations, with the invite form."""
    return _page()


@bp.post("/staff/invite")
@requires("staff.manage")
def staff_invite():
    """Invite one or several people at once, with a role, teams and places."""
    form = _invite_form(current_brand())
    if not form.validate_on_submit():
        return _page(422, form=form)
    try:
        invited = invites.invite(current_user, invites.parse_addresses(form.emails.data),
                                 form.role.data, form.teams.data, form.touchpoints.data)
    except SetupProblem as problem:
        field = getattr(form, problem.field or "", None) or form.emails
        field.errors = list(field.errors) + getattr(problem, "messages", [str(problem)])
        return _page(422, form=form, resendable=getattr(problem, "resendable", ()))
    return _invited(invited)


@bp.post("/invitations/<int:invitation_id>/resend")
@requires("staff.manage")
def invitation_resend(invitation_id):
    """Send an invitation again with a new link and 24 hours; the old link dies."""
    invitation = brand_scoped(current_user, Invitation, invitation_id)
    invited, refused = _attempt(("invitation", invitation.id), ActionForm(),
                                lambda: invites.resend(current_user, invitation))
    return refused or _invited([invited])


@bp.post("/invitations/<int:invitation_id>/revoke")
@requires("staff.manage")
def invitation_revoke(invitation_id):
    """Withdraw a pending invitation: its link stops working."""
    invitation = brand_scoped(current_user, Invitation, invitation_id)
    _done, refused = _attempt(("invitation", invitation.id), ActionForm(),
                              lambda: invites.revoke(current_user, invitation))
    if refused:
        return refused
    flash(_("The invitation of %(address)s is revoked: its link no longer works.",
            address=invitation.email))
    return see_other(url_for("admin.staff", _anchor="invitations"))


def _member_change(staff_id, form, call, done):
    """Apply `call(member)` to a member of the brand; flash `done` and go back to them."""
    member = brand_scoped(current_user, StaffMember, staff_id)
    _done, refused = _attempt(("member", member.id), form, lambda: call(member))
    if refused:
        return refused
    flash(done % {"name": member.name})
    return see_other(url_for("admin.staff", _anchor=f"staff-{member.id}"))


@bp.post("/staff/<int:staff_id>/role")
@requires("staff.manage")
def staff_role(staff_id):
    """Give someone another role: only roles one may give, to people who have one."""
    form = RoleForm(grantable_roles(current_user))
    return _member_change(staff_id, form, lambda m: people.change_role(
        current_user, m, form.role.data), _("The role of %(name)s is changed."))


@bp.post("/staff/<int:staff_id>/access")
@requires("staff.manage")
def staff_access(staff_id):
    """Set the teams someone answers for and the places they work (none: every place)."""
    brand = current_brand()
    form = AccessForm(rosters.teams_of(brand.id), people.touchpoints_of(brand.id))
    return _member_change(staff_id, form, lambda m: people.set_access(
        current_user, m, form.teams.data, form.touchpoints.data),
        _("The teams and places of %(name)s are saved."))


@bp.post("/staff/<int:staff_id>/deactivate")
@requires("staff.manage")
def staff_deactivate(staff_id):
    """Deactivate someone: signed out everywhere at once, their conversations handed on."""
    return _member_change(staff_id, ActionForm(), lambda m: people.deactivate(current_user, m),
                          _("%(name)s is deactivated and signed out everywhere; their open "
                            "conversations went back to their teams."))


@bp.post("/staff/<int:staff_id>/reactivate")
@requires("staff.manage")
def staff_reactivate(staff_id):
    """Let a deactivated member of staff sign in again."""
    return _member_change(staff_id, ActionForm(), lambda m: people.reactivate(current_user, m),
                          _("%(name)s can sign in again."))
