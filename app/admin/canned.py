"""Canned replies: the answers a brand's staff give often, kept once for all of them."""
from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.admin import bp, current_brand
from app.admin.settings_forms import CannedForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import CannedReply, db


def _page(form, editing=None, status=200):
    replies = db.session.scalars(db.select(CannedReply).filter_by(
        brand_id=current_user.brand_id).order_by(CannedReply.title)).all()
    return render_template("admin/canned.html", replies=replies, form=form,
                           editing=editing), status


def save_canned(canned, title, body):
    """Store `title` and `body` into `canned`; return an error message if the title is taken."""
    canned.title, canned.body = title, body
    db.session.add(canned)
    try:
        db.session.commit()
    except IntegrityError:  # the brand's titles are unique: the database is the judge
        db.session.rollback()
        return _("A canned reply with that title already exists.")
    return None


def _saved_or_page(form, canned, editing=None):
    """Save a valid post and go back to the list; else show the form with its errors."""
    if form.validate_on_submit():
        error = save_canned(canned, form.title.data, form.body.data)
        if error is None:
            return see_other(url_for("admin.canned_replies"))
        form.title.errors = [error]
    return _page(form, editing=editing, status=422 if form.errors else 200)


@bp.route("/canned", methods=["GET", "POST"])
@requires("canned.edit")
def canned_replies():
    """List the brand's canned replies; add one."""
    return _saved_or_page(CannedForm(), CannedReply(brand_id=current_brand().id))


@bp.route("/canned/<int:canned_id>", methods=["GET", "POST"])
@requires("canned.edit")
def edit_canned(canned_id):
    """Change a canned reply's title or text."""
    canned = brand_scoped(current_user, CannedReply, canned_id)
    return _saved_or_page(CannedForm(obj=canned), canned, editing=canned)


@bp.post("/canned/<int:canned_id>/delete")
@requires("canned.edit")
def delete_canned(canned_id):
    """Delete a canned reply."""
    db.session.delete(brand_scoped(current_user, CannedReply, canned_id))
    db.session.commit()
    return see_other(url_for("admin.canned_replies"))
