"""One's own profile: name, language and password (a new password ends one's other sessions)."""
from flask import render_template, url_for
from flask_login import current_user

from app.core import sessions
from app.core.permissions import requires
from app.core.rendering import see_other
from app.extensions import limiter
from app.inbox import accounts, bp
from app.inbox.account_forms import ChangePasswordForm, ProfileForm


def _page(profile_form=None, password_form=None, saved=None, status=200):
    staff = current_user._get_current_object()
    profile_form = profile_form or ProfileForm(formdata=None, obj=staff,
                                               language=staff.language or "")
    password_form = password_form or ChangePasswordForm(staff, formdata=None)
    return render_template("inbox/profile.html", profile_form=profile_form,
                           password_form=password_form, saved=saved), status


@bp.route("/profile", methods=["GET", "POST"])
@requires("inbox.work")
def profile():
    """Show one's profile; save a new name and language."""
    form = ProfileForm()
    if form.validate_on_submit():
        accounts.update_profile(current_user, form.name.data, form.language.data)
        return see_other(url_for("inbox.profile", saved="profile"))
    if form.is_submitted():
        return _page(profile_form=form, status=422)
    return _page(saved=_saved())


@bp.post("/profile/password")
@requires("inbox.work")
@limiter.limit("10/minute")
def change_password():
    """Change one's password: every other session ends, this one stays signed in."""
    staff = current_user._get_current_object()
    form = ChangePasswordForm(staff)
    if not form.validate_on_submit():
        return _page(password_form=form, status=422)
    accounts.change_password(staff, form.password.data)
    sessions.sign_in(staff)  # a new session (and epoch): this browser stays signed in
    return see_other(url_for("inbox.profile", saved="password"))


def _saved():
    from flask import request
    value = request.args.get("saved")
    return value if value in ("profile", "password") else None
