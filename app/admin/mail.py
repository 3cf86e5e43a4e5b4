"""Outgoing mail: whether a sender is set up, the brand's recent mail, and a test mail."""
from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.admin import bp, current_brand
from app.core.forms import ActionForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.extensions import limiter
from app.mail import first_outcome, send_mail, shown_sender
from models import OutgoingMail, db

RECENT = 50
# Each test mail is a real mail to a real inbox: enough tries to fix a setting, not a flood.
TEST_LIMIT = "3/minute;20/hour"


@bp.get("/mail")
@requires("mail.test")
def mail():
    """Show the sender (never its password) and the brand's latest outgoing mail."""
    try:
        sender, problem = shown_sender(), None
    except ValueError as error:
        sender, problem = None, str(error)
    recent = db.session.scalars(db.select(OutgoingMail).filter_by(
        brand_id=current_brand().id).order_by(OutgoingMail.id.desc()).limit(RECENT)).all()
    return render_template("admin/mail.html", sender=sender, problem=problem, recent=recent,
                           failed=sum(m.status == "failed" for m in recent),
                           form=ActionForm(formdata=None))


def _test_mail(brand):
    """Return (subject, text, html) of the test mail, in the admin's language."""
    lines = [_("This is a test mail from Kulak for %(brand)s.", brand=brand.name),
             _("It reached you, so Kulak can send your staff their invitations and password "
               "resets.")]
    # Markup.format escapes each line: a brand's name is text, never markup.
    html = Markup('<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">'
                  "<p>{}</p><p>{}</p></body></html>").format(*lines)
    return _("Kulak test mail"), "\n\n".join(lines) + "\n", html


@bp.post("/mail/test")
@requires("mail.test")
@limiter.limit(TEST_LIMIT, key_func=lambda: f"mail-test-{current_user.id}")
def mail_test():
    """Send a test mail to the signed-in admin's own address; say how it went."""
    if not ActionForm().validate_on_submit():
        return see_other(url_for("admin.mail"))
    brand, address = current_brand(), current_user.email
    subject, text, html = _test_mail(brand)
    sent = send_mail(address, subject, text, html=html, brand_id=brand.id, purpose="test")
    if sent is None:
        flash(_("No mail sender is configured, so no mail went out. Set KULAK_MAIL_URL and "
                "restart Kulak."), "error")
        return see_other(url_for("admin.mail"))
    outcome = first_outcome(sent.id)
    if outcome.status == "sent":
        flash(_("The mail server accepted the test mail to %(address)s: look in that inbox "
                "(and its spam folder).", address=address), "notice")
    elif outcome.last_error:
        flash(_("The test mail to %(address)s did not go out: %(problem)s",
                address=address, problem=outcome.last_error), "error")
    else:
        flash(_("The test mail to %(address)s is on its way: the list below shows when it "
                "has gone.", address=address), "notice")
    return see_other(url_for("admin.mail"))
