"""Staff sessions the server can end: each signed-in browser is a row, its cookie holds only
a random id whose hash the row keeps. Logging out, an idle timeout, a new password and
deactivation end them at once, whatever copy of the cookie is left."""
from datetime import timedelta

from flask import session
from flask_login import login_user, logout_user

from models import StaffSession, db
from models.common import utcnow

# A session's last use is written at most this often: not a database write per request.
SEEN_EVERY = timedelta(minutes=1)


def sign_in(staff):
    """Start a new session of `staff` in this browser: a fresh cookie, CSRF token and id."""
    # Whatever the cookie held before (a CSRF token someone may have planted) goes with it.
    session.clear()
    started, token = StaffSession.start(staff)
    db.session.commit()
    login_user(staff)
    session["sid"] = token


def sign_out():
    """End this browser's session on the server too: a copy of the cookie opens nothing."""
    started = StaffSession.find(session.get("sid"))
    if started is not None:
        started.ended_at = utcnow()
        db.session.commit()
    logout_user()
    session.clear()


def alive(staff):
    """True if this browser's session of `staff` has not ended nor sat idle too long."""
    started = StaffSession.find(session.get("sid"))
    if started is None or started.staff_id != staff.id:
        return False
    now = utcnow()
    if now - started.last_seen_at > timedelta(minutes=staff.brand.idle_timeout_minutes):
        started.ended_at = now
        db.session.commit()
        return False
    if now - started.last_seen_at > SEEN_EVERY:
        started.last_seen_at = now
        db.session.commit()
    return True


def end_all(staff):
    """Mark every session of `staff` ended (the caller commits); the epoch refuses them too."""
    db.session.execute(db.update(StaffSession).where(
        StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow()))
