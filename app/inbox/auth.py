"""Staff login and logout (Flask-Login; scrypt password hashes; CSRF on both forms)."""
import functools
import math
import secrets
import time
from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash, generate_password_hash

from app.core import sessions
from app.core.forms import ActionForm, SetPasswordForm
from app.core.rendering import see_other
from app.extensions import db, limiter, login_manager
from app.inbox import accounts, bp
from app.inbox.account_forms import ForgotPasswordForm
from app.inbox.forms import LoginForm
from models import OneTimeLink, StaffMember


@login_manager.user_loader
def load_staff(user_id):
    """Return the session's member of staff if still active and the session not ended."""
    staff_id, _colon, epoch = str(user_id).partition(":")
    if not staff_id.isdigit() or not epoch.isdigit():
        return None
    staff = db.session.get(StaffMember, int(staff_id))
    if staff is None or not staff.active or (staff.session_epoch or 0) != int(epoch):
        return None
    return staff if sessions.alive(staff) else None


def _safe_next(target):
    """Follow ?next= only within Kulak: an open redirect would help phishing."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not (target or "").startswith("/"):
        return url_for("inbox.index")
    return target


@functools.cache
def _stand_in_hash():
    """A hash to check an unknown address's password against: the same work as a known one."""
    return generate_password_hash(secrets.token_hex(16))


def _login_account():
    """The rate-limit key of a login attempt: the address tried (whoever tries it)."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _too_many_attempts(limit):
    """Answer a throttled login with when to try again."""
    minutes = max(1, math.ceil((limit.reset_at - time.time()) / 60))
    form = LoginForm(formdata=None, next=request.form.get("next"))
    error = ngettext("Too many attempts to sign in: please try again in %(num)d minute.",
                     "Too many attempts to sign in: please try again in %(num)d minutes.",
                     minutes)
    return make_response(render_template("inbox/login.html", form=form, error=error), 429,
                         {"Retry-After": str(minutes * 60)})


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"], on_breach=_too_many_attempts)
# Per address too, so guessing one person's password from many addresses is slow; only
# failed attempts count, so the person themselves still gets in.
@limiter.limit("8 per 15 minutes", key_func=_login_account, methods=["POST"],
               deduct_when=lambda response: response.status_code != 303,
               on_breach=_too_many_attempts)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    form = LoginForm(next=request.args.get("next"))
    error = None
    if form.validate_on_submit():
        staff = db.session.scalar(db.select(StaffMember).filter_by(email=form.email.data.lower()))
        known = staff is not None and staff.active
        # An unknown address costs the same hash check: its answer's time tells nothing.
        matches = check_password_hash(staff.password_hash if known else _stand_in_hash(),
                                      form.password.data)
        if known and matches:
            sessions.sign_in(staff)
            return see_other(_safe_next(form.next.data))
        error = _("That email and password do not match an account.")
    status = 422 if form.errors or error else 200
    return render_template("inbox/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    if ActionForm().validate_on_submit():
        sessions.sign_out()
    return see_other(url_for("inbox.login"))


def landing_for(staff):
    """Where a member of staff starts: the admin sets the brand up, everyone else answers."""
    return url_for("admin.index") if staff.role == "admin" else url_for("inbox.index")


@bp.route("/password/<token>", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def set_password(token):
    """Choose a password through a one-time link; opening the link alone changes nothing."""
    link = OneTimeLink.find(token, "set_password") or OneTimeLink.find(token, "reset")
    if link is None:
        return render_template("inbox/link_gone.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        if not accounts.set_password_with(link, form.password.data):
            return render_template("inbox/link_gone.html"), 410
        sessions.sign_in(link.staff)
        return see_other(landing_for(link.staff))
    status = 422 if form.errors else 200
    return render_template("inbox/set_password.html", form=form, staff=link.staff), status


def _forgot_answer(status=200):
    """The one answer to a reset request: whether or not the address has an account."""
    return make_response(render_template(
        "inbox/forgot_password.html", form=ForgotPasswordForm(formdata=None), asked=True), status)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"], on_breach=lambda _limit: _forgot_answer(429))
def forgot_password():
    """Ask for a reset link by email; the answer never tells whether the address exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_reset(form.email.data)
        return _forgot_answer()
    status = 422 if form.errors else 200
    return render_template("inbox/forgot_password.html", form=form, asked=False), status
