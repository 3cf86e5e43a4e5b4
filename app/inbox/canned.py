"""Canned replies: a brand's staff keep the answers they give often."""
from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.core.rendering import see_other
from app.extensions import db
from app.inbox import bp, service
from app.inbox.forms import ActionForm, CannedForm
from models import CannedReply


def _page(form, editing=None, status=200):
    replies = db.session.scalars(db.select(CannedReply).filter_by(
        brand_id=current_user.brand_id).order_by(CannedReply.title)).all()
    return render_template("inbox/canned.html", replies=replies, form=form, editing=editing,
                           action_form=ActionForm(formdata=None)), status


def _save(form, canned):
    """Store the form into `canned`; return an error message if the title is taken."""
    canned.title, canned.body = form.title.data, form.body.data
    db.session.add(canned)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _("A canned reply with that title already exists.")
    return None


@bp.route("/canned", methods=["GET", "POST"])
def canned_replies():
    form = CannedForm()
    if form.validate_on_submit():
        error = _save(form, CannedReply(brand_id=current_user.brand_id))
        if error is None:
            return see_other(url_for("inbox.canned_replies"))
        form.title.errors = [error]
    return _page(form, status=422 if form.errors else 200)


@bp.route("/canned/<int:canned_id>", methods=["GET", "POST"])
def edit_canned(canned_id):
    canned = service.canned_for(current_user, canned_id)
    form = CannedForm(obj=canned)
    if form.validate_on_submit():
        error = _save(form, canned)
        if error is None:
            return see_other(url_for("inbox.canned_replies"))
        form.title.errors = [error]
    return _page(form, editing=canned, status=422 if form.errors else 200)


@bp.post("/canned/<int:canned_id>/delete")
def delete_canned(canned_id):
    canned = service.canned_for(current_user, canned_id)
    if ActionForm().validate_on_submit():
        db.session.delete(canned)
        db.session.commit()
    return see_other(url_for("inbox.canned_replies"))
