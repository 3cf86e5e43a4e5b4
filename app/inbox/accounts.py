"""Staff accounts: choosing a password through a one-time link."""
from models import db


def set_password_with(link, password):
    """Use `link` once to set its owner's password; False if it was used meanwhile."""
    if not link.use():
        db.session.rollback()
        return False
    link.staff.set_password(password)
    db.session.commit()
    return True
