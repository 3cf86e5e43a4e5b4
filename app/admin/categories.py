"""Categories customers choose from: the list in order; add, edit, move, hide and show."""
from flask import flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp, current_brand, taxonomy
from app.admin.problems import SetupProblem
from app.admin.setup_forms import CategoryForm, MoveForm
from app.core.permissions import requires
from app.core.rendering import page_or_fragment, see_other
from app.core.scoping import brand_scoped
from models import Category, db

PAGE, LIST = "admin/categories.html", "admin/_categories.html"


def _language():
    return str(get_locale())


def _form(category=None, posted=None):
    """Return the category form: what was posted, else the category's values (or blank)."""
    if request.method == "POST" if posted is None else posted:
        return CategoryForm(_language())
    data = {"taxonomy": "other"} if category is None else {
        "label_en": category.labels.get("en"), "label_tr": category.labels.get("tr"),
        "taxonomy": category.taxonomy}
    return CategoryForm(_language(), formdata=None, data=data)


def _refused(form, problem):
    field = getattr(form, problem.field or "", None)
    (field.errors if field is not None else form.form_errors).append(str(problem))


def _page(brand, form=None, editing=None, status=200, problem=None):
    """Render the page, or for htmx the list alone; the add form unless one is being edited."""
    categories = db.session.scalars(db.select(Category).filter_by(brand_id=brand.id)
                                    .order_by(Category.position, Category.id)).all()
    if form is not None and form.is_submitted() and (form.errors or form.form_errors):
        status = 422
    return page_or_fragment(PAGE, LIST, status=status, brand=brand, categories=categories,
                            form=form if form is not None else _form(posted=False), editing=editing,
                            problem=problem, language=_language(),
                            taxonomy_name=taxonomy.taxonomy_name)


@bp.route("/categories", methods=["GET", "POST"])
@requires("brand.setup")
def categories():
    """List the brand's categories in the order customers see them; add one."""
    brand = current_brand()
    form = _form()
    if form.validate_on_submit():
        try:
            added = taxonomy.add_category(brand, form.labels(), form.taxonomy.data)
        except SetupProblem as problem:
            _refused(form, problem)
        else:
            flash(_("Added “%(name)s”; customers can choose it now.",
                    name=added.label(_language())))
            return see_other(url_for("admin.categories"))
    return _page(brand, form)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@requires("brand.setup")
def category_edit(category_id):
    """Rename a category in either language, or change what it stands for."""
    category = brand_scoped(current_user, Category, category_id)
    form = _form(category)
    if form.validate_on_submit():
        try:
            taxonomy.update_category(category, form.labels(), form.taxonomy.data)
        except SetupProblem as problem:
            db.session.rollback()
            _refused(form, problem)
        else:
            flash(_("Saved “%(name)s”.", name=category.label(_language())))
            return see_other(url_for("admin.categories"))
    return _page(category.brand, form, editing=category)


@bp.post("/categories/<int:category_id>/move")
@requires("brand.setup")
def category_move(category_id):
    """Move a category one place up or down; htmx follows the 303 and swaps the list."""
    category = brand_scoped(current_user, Category, category_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _page(category.brand, status=422,
                     problem=_("Please move a category up or down."))
    taxonomy.move_category(category, form.direction.data)
    return see_other(url_for("admin.categories"))


def _set_shown(category_id, shown):
    category = brand_scoped(current_user, Category, category_id)
    try:
        taxonomy.set_category_shown(category, shown)
    except SetupProblem as problem:
        return _page(category.brand, status=422, problem=str(problem))
    return see_other(url_for("admin.categories"))


@bp.post("/categories/<int:category_id>/hide")
@requires("brand.setup")
def category_hide(category_id):
    """Hide a category from customers (never delete: conversations name it)."""
    return _set_shown(category_id, False)


@bp.post("/categories/<int:category_id>/show")
@requires("brand.setup")
def category_show(category_id):
    """Let customers choose a hidden category again."""
    return _set_shown(category_id, True)
