"""Places (touchpoints): the list with each one's link and QR code; add, edit, archive, delete."""
from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp, current_brand, places
from app.admin.problems import SetupProblem
from app.admin.setup_forms import KIND_NAMES, TouchpointForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from app.widget.qr import short_link
from models import Survey, Touchpoint, db


def _form(brand, touchpoint=None, posted=None):
    """Return the place form: what was posted, else the place's values (or a new room's)."""
    surveys = db.session.scalars(db.select(Survey).filter_by(brand_id=brand.id)
                                 .order_by(Survey.name, Survey.id)).all()
    default = next((s.name for s in surveys if s.is_default and s.active), None)
    if request.method == "POST" if posted is None else posted:
        return TouchpointForm(surveys, default)
    data = {"kind": "room"} if touchpoint is None else {
        "label": touchpoint.label, "kind": touchpoint.kind, "slug": touchpoint.slug,
        "survey": str(touchpoint.survey_id or "")}
    return TouchpointForm(surveys, default, formdata=None, data=data)


def _refused(form, problem):
    """Show a refusal under the field it is about (or above the form); return 422."""
    field = getattr(form, problem.field or "", None)
    (field.errors if field is not None else form.form_errors).append(str(problem))
    return 422


def _status(form):
    return 422 if form.is_submitted() and (form.errors or form.form_errors) else 200


def _context(brand, **context):
    return {"brand": brand, "kinds": KIND_NAMES, "short_link": short_link, **context}


@bp.route("/touchpoints", methods=["GET", "POST"])
@requires("brand.setup")
def touchpoints():
    """List the brand's places, open ones first, archived ones apart; add one."""
    brand, status = current_brand(), 200
    form = _form(brand)
    if form.validate_on_submit():
        try:
            added = places.add_touchpoint(brand, form.label.data, form.kind.data,
                                          slug=form.slug.data, survey_id=form.survey_id())
        except SetupProblem as problem:
            status = _refused(form, problem)
        else:
            flash(_("Added “%(place)s”: its link and QR code are ready.", place=added.label))
            return see_other(url_for("admin.touchpoints"))
    every = db.session.scalars(db.select(Touchpoint).filter_by(brand_id=brand.id)
                               .order_by(Touchpoint.position, Touchpoint.id)).all()
    return render_template(
        "admin/touchpoints.html", form=form, **_context(
            brand, open_places=[t for t in every if t.archived_at is None],
            archived=[t for t in every if t.archived_at is not None])), max(status, _status(form))


def _edit_page(touchpoint, form, status=200, problem=None):
    return render_template("admin/touchpoint.html", form=form, problem=problem, **_context(
        touchpoint.brand, touchpoint=touchpoint,
        conversations=places.conversation_count(touchpoint),
        delete_problem=places.delete_problem(touchpoint))), status


@bp.route("/touchpoints/<int:touchpoint_id>", methods=["GET", "POST"])
@requires("brand.setup")
def touchpoint_edit(touchpoint_id):
    """Rename a place, change its address, kind or survey."""
    touchpoint = brand_scoped(current_user, Touchpoint, touchpoint_id)
    form, status = _form(touchpoint.brand, touchpoint), 200
    if form.validate_on_submit():
        try:
            places.update_touchpoint(touchpoint, label=form.label.data, kind=form.kind.data,
                                     slug=form.slug.data, survey_id=form.survey_id())
        except SetupProblem as problem:
            db.session.rollback()  # nothing half-changed stays in the session
            status = _refused(form, problem)
        else:
            flash(_("Saved “%(place)s”.", place=touchpoint.label))
            return see_other(url_for("admin.touchpoint_edit", touchpoint_id=touchpoint.id))
    return _edit_page(touchpoint, form, max(status, _status(form)))


@bp.post("/touchpoints/<int:touchpoint_id>/archive")
@requires("brand.setup")
def touchpoint_archive(touchpoint_id):
    """Close a place: its printed code says so; its conversations stay."""
    touchpoint = places.archive_touchpoint(brand_scoped(current_user, Touchpoint, touchpoint_id))
    flash(_("“%(place)s” is archived: its link and code now say it no longer takes messages.",
            place=touchpoint.label))
    return see_other(url_for("admin.touchpoints"))


@bp.post("/touchpoints/<int:touchpoint_id>/unarchive")
@requires("brand.setup")
def touchpoint_unarchive(touchpoint_id):
    """Open an archived place again."""
    touchpoint = places.unarchive_touchpoint(
        brand_scoped(current_user, Touchpoint, touchpoint_id))
    flash(_("“%(place)s” takes messages again; its printed codes work again.",
            place=touchpoint.label))
    return see_other(url_for("admin.touchpoints"))


@bp.post("/touchpoints/<int:touchpoint_id>/delete")
@requires("brand.setup")
def touchpoint_delete(touchpoint_id):
    """Delete a place nobody has used; one with conversations is refused with the reason."""
    touchpoint = brand_scoped(current_user, Touchpoint, touchpoint_id)
    label = touchpoint.label
    try:
        places.delete_touchpoint(touchpoint)
    except SetupProblem as problem:
        return _edit_page(touchpoint, _form(touchpoint.brand, touchpoint, posted=False), 422,
                          problem)
    flash(_("Deleted “%(place)s”.", place=label))
    return see_other(url_for("admin.touchpoints"))
