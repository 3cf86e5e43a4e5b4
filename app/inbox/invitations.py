"""Accepting an invitation: the invited person gives a name and a password, and is signed in."""
from flask import g, render_template
from flask_babel import get_locale

from app.admin import invites
from app.admin.problems import SetupProblem
from app.admin.staff_forms import AcceptInvitationForm
from app.core import sessions
from app.core.rendering import see_other
from app.extensions import db, limiter
from app.inbox import bp
from app.inbox.auth import landing_for
from models import Brand, Invitation


def _page(invitation, form=None, problem=None, status=200):
    """The invitation's page: its form, or the `problem` why it cannot make an account."""
    return render_template("inbox/accept_invitation.html", invitation=invitation, form=form,
                           brand=db.session.get(Brand, invitation.brand_id),
                           problem=problem), status


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def accept_invitation(token):
    """Join a brand's staff through an invitation; opening the link alone changes nothing."""
    invitation = Invitation.find(token)
    if invitation is None:  # used, expired, revoked or renewed
        return render_template("inbox/link_gone.html"), 410
    g.brand_language = db.session.get(Brand, invitation.brand_id).default_language
    if invites.address_taken(invitation.email):
        return _page(invitation, problem=invites.account_exists(invitation.email), status=409)
    form = AcceptInvitationForm(data={"language": str(get_locale())})
    if not form.validate_on_submit():
        return _page(invitation, form, status=422 if form.errors else 200)
    try:
        staff = invites.accept(invitation, form.name.data, form.password.data,
                               form.language.data)
    except SetupProblem as problem:
        if problem.field in form:  # what was typed: said under the field
            form[problem.field].errors = [*form[problem.field].errors, str(problem)]
            return _page(invitation, form, status=422)
        return _page(invitation, problem=problem, status=409)  # an account, or no place left
    if staff is None:  # a second submit, or the link died meanwhile
        return render_template("inbox/link_gone.html"), 410
    sessions.sign_in(staff)
    return see_other(landing_for(staff))
