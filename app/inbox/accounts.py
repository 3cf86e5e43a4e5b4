"""Staff accounts: passwords through one-time links, resets, and one's own profile."""
import logging
from datetime import timedelta

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app import events
from app.core import sessions
from models import OneTimeLink, StaffMember, db
from models.access import RESET_LIFETIME
from models.common import utcnow

log = logging.getLogger(__name__)
# However often the form is sent for one address, it gets at most this many links an hour.
RESETS_PER_HOUR = 3


def password_link_url(token):
    """Return the absolute address of a password link (sent or printed, never stored)."""
    return current_app.config["PUBLIC_URL"] + url_for("inbox.set_password", token=token)


def language_of(staff):
    """Return the language that reaches `staff`: their own, else their brand's."""
    return staff.language or staff.brand.default_language


def set_password_with(link, password):
    """Use `link` once to set its owner's password; False if it was used meanwhile."""
    if not link.use():
        db.session.rollback()
        return False
    change_password(link.staff, password)
    return True


def change_password(staff, password):
    """Set `staff`'s password and end every session they had (the caller signs them in again)."""
    staff.set_password(password)
    staff.end_sessions()
    sessions.end_all(staff)
    db.session.commit()
    events.staff_sessions_ended.send(staff)



def update_profile(staff, name, language):
    """Change one's own name and language (None: the brand's)."""
    staff.name, staff.language = name, language or None
    db.session.commit()


def reset_link(staff):
    """Issue a one-hour reset link for `staff`; return its absolute URL (commits)."""
    _link, token = OneTimeLink.issue(staff, "reset", lifetime=RESET_LIFETIME)
    db.session.commit()
    return password_link_url(token)


def _recent_resets(staff):
    return db.session.scalar(db.select(db.func.count(OneTimeLink.id)).where(
        OneTimeLink.staff_id == staff.id, OneTimeLink.purpose == "reset",
        OneTimeLink.created_at > utcnow() - timedelta(hours=1)))


def request_reset(email):
    """Mail a reset link if `email` is an active account; say nothing either way.

    The page that calls this answers the same whatever happens here, so it tells nobody
    whether an address has an account.
    """
    from app.mail import send_mail
    staff = db.session.scalar(db.select(StaffMember).filter_by(email=email.lower()))
    if staff is None or not staff.active or _recent_resets(staff) >= RESETS_PER_HOUR:
        return
    url = reset_link(staff)
    with force_locale(language_of(staff)):
        context = {"staff": staff, "brand": staff.brand, "url": url,
                   "minutes": int(RESET_LIFETIME.total_seconds() // 60)}
        subject = _("Reset your Kulak password for %(brand)s", brand=staff.brand.name)
        text = render_template("mail/reset.txt", **context)
        html = render_template("mail/reset.html", **context)
    if send_mail(staff.email, subject, text, html=html, brand_id=staff.brand_id,
                 purpose="reset") is None:
        # No mail sender: an operator prints a link with `kulak staff reset-link EMAIL`.
        log.warning("password reset asked for %s but KULAK_MAIL_URL is not set", staff.email)
