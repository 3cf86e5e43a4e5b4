"""The survey builder: the brand's surveys, their questions, and a preview as customers see it."""
from flask import abort, flash, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp, current_brand
from app.admin import survey_builder as builder
from app.admin.problems import SetupProblem
from app.admin.survey_forms import KIND_LABELS, QuestionForm, SurveyNameForm
from app.core.permissions import requires
from app.core.rendering import page_or_fragment, see_other
from app.core.scoping import brand_scoped
from app.extensions import csrf
from app.widget.forms import survey_form
from models import Question, Survey, db


def _survey(survey_id):
    return brand_scoped(current_user, Survey, survey_id)


def _question(survey_id, question_id):
    survey = _survey(survey_id)
    question = db.session.get(Question, question_id)
    if question is None or question.survey_id != survey.id:
        abort(404)
    return question


def _builder_url(survey, anchor=""):
    return url_for("admin.survey_builder", survey_id=survey.id) + anchor


def _builder(survey, status=200, name_form=None, question_form=None, editing=None,
             problem=None):
    """Render the builder page, or only its question list for an htmx move."""
    return page_or_fragment(
        "admin/survey.html", "admin/_survey_questions.html", status=status, survey=survey,
        counts=builder.answer_counts(survey), kinds=KIND_LABELS, editing=editing,
        problem=problem, question_form=question_form or QuestionForm(formdata=None),
        name_form=name_form or SurveyNameForm(formdata=None, data={"name": survey.name}))


@bp.route("/surveys", methods=["GET", "POST"])
@requires("brand.setup")
def surveys():
    brand = current_brand()
    form = SurveyNameForm()
    if form.validate_on_submit():
        try:
            survey = builder.create_survey(brand, form.name.data)
        except SetupProblem as error:
            form.refuse(error)
        else:
            flash(_("Survey “%(name)s” created: now add its questions.", name=survey.name))
            return see_other(_builder_url(survey))
    listed = builder.surveys_of(brand)
    return render_template("admin/surveys.html", surveys=listed, form=form,
                           places=builder.places_by_survey(brand, listed),
                           ), 422 if form.errors else 200


@bp.get("/surveys/<int:survey_id>")
@requires("brand.setup")
def survey_builder(survey_id):
    return _builder(_survey(survey_id))


@bp.post("/surveys/<int:survey_id>/name")
@requires("brand.setup")
def survey_rename(survey_id):
    survey = _survey(survey_id)
    form = SurveyNameForm()
    if form.validate_on_submit():
        try:
            builder.rename_survey(survey, form.name.data)
        except SetupProblem as error:
            form.refuse(error)
        else:
            flash(_("Renamed."))
            return see_other(_builder_url(survey))
    return _builder(survey, 422, name_form=form)


@bp.post("/surveys/<int:survey_id>/default")
@requires("brand.setup")
def survey_default(survey_id):
    survey = _survey(survey_id)
    try:
        builder.set_default(survey)
    except SetupProblem as error:
        return _builder(survey, 422, problem=error.message)
    flash(_("“%(name)s” is now the survey of every place without one of its own.",
            name=survey.name))
    back = request.form.get("back")
    return see_other(url_for("admin.surveys") if back == "list" else _builder_url(survey))


@bp.post("/surveys/<int:survey_id>/questions")
@requires("brand.setup")
def survey_add_question(survey_id):
    survey = _survey(survey_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            builder.add_question(survey, form.kind.data, form.prompt(), form.choice_labels(),
                                 form.required.data)
        except SetupProblem as error:
            form.refuse(error)
        else:
            flash(_("Question added."))
            return see_other(_builder_url(survey, "#questions"))
    return _builder(survey, 422, question_form=form)


@bp.route("/surveys/<int:survey_id>/questions/<int:question_id>", methods=["GET", "POST"])
@requires("brand.setup")
def survey_question(survey_id, question_id):
    """Edit a question nobody has answered yet."""
    question = _question(survey_id, question_id)
    form = QuestionForm() if request.method == "POST" else QuestionForm.of(question)
    if form.validate_on_submit():
        try:
            builder.update_question(question, form.kind.data, form.prompt(),
                                    form.choice_labels(), form.required.data)
        except SetupProblem as error:
            form.refuse(error)
        else:
            flash(_("Question saved."))
            return see_other(_builder_url(question.survey, "#questions"))
    return _builder(question.survey, 422 if form.errors else 200, question_form=form,
                    editing=question)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/<any(up, down):direction>")
@requires("brand.setup")
def survey_move_question(survey_id, question_id, direction):
    question = _question(survey_id, question_id)
    try:
        builder.move_question(question, direction)
    except SetupProblem as error:
        return _builder(question.survey, 422, problem=error.message)
    if request.headers.get("HX-Request") == "true":
        # htmx swaps the list in place; without script the page comes back after a 303.
        return _builder(question.survey)
    return see_other(_builder_url(question.survey, f"#question-{question.id}"))


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/retire")
@requires("brand.setup")
def survey_retire_question(survey_id, question_id):
    question = _question(survey_id, question_id)
    builder.retire_question(question)
    flash(_("Retired: customers are no longer asked it; its answers are kept."))
    return see_other(_builder_url(question.survey, "#retired"))


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/delete")
@requires("brand.setup")
def survey_delete_question(survey_id, question_id):
    question = _question(survey_id, question_id)
    try:
        survey = builder.delete_question(question)
    except SetupProblem as error:
        return _builder(question.survey, 422, problem=error.message)
    flash(_("Question deleted."))
    return see_other(_builder_url(survey, "#questions"))


@bp.route("/surveys/<int:survey_id>/preview", methods=["GET", "POST"])
@requires("brand.setup")
@csrf.exempt  # the preview's form posts back here and changes nothing, like customer forms
def survey_preview(survey_id):
    """Show the survey exactly as customers get it; answers are checked, never recorded."""
    survey = _survey(survey_id)
    form = survey_form(survey.live_questions, str(get_locale()))
    checked = request.method == "POST" and form.validate()

    def stay_in_preview(endpoint, brand, touchpoint, embed, **query):
        # The customer template's "Skip the questions" would leave for the real help page.
        return url_for("admin.survey_preview", survey_id=survey.id, skipped=1,
                       lang=query.get("lang"))

    return render_template("admin/survey_preview.html", survey=survey, form=form,
                           brand=current_brand(), touchpoint=None, embed=False,
                           checked=checked, skipped="skipped" in request.args,
                           place_url=stay_in_preview), 422 if form.errors else 200
