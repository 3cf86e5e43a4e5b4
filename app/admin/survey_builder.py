"""Survey builder operations on plain values; each commits. Callers scope ids to the brand."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.admin.problems import SetupProblem
from app.core.validators import slugify, strip
from models import Answer, Question, Survey, Touchpoint, db
from models.common import LANGUAGES, NAME_MAX, utcnow
from models.survey import QUESTION_KINDS

PROMPT_MAX = 200
CHOICE_MAX = 80
CHOICES_MIN, CHOICES_MAX = 2, 12


def _name(brand_id, name, survey=None):
    name = strip(name or "")
    if not name:
        raise SetupProblem(_l("Please give the survey a name."), "name")
    if len(name) > NAME_MAX:
        raise SetupProblem(_("Please use at most %(max)d characters for the name (it has "
                             "%(length)d).", max=NAME_MAX, length=len(name)), "name")
    same = db.select(Survey.id).filter(Survey.brand_id == brand_id,
                                       db.func.lower(Survey.name) == name.lower())
    if survey is not None:
        same = same.filter(Survey.id != survey.id)
    if db.session.scalar(same) is not None:
        raise SetupProblem(_("You already have a survey called “%(name)s”.", name=name), "name")
    return name


def create_survey(brand, name):
    """Add an empty survey to the brand; it is nobody's until chosen or made the default."""
    survey = Survey(brand_id=brand.id, name=_name(brand.id, name), is_default=False)
    db.session.add(survey)
    db.session.commit()
    return survey


def rename_survey(survey, name):
    """Rename the survey; customers never see its name."""
    survey.name = _name(survey.brand_id, name, survey)
    db.session.commit()
    return survey


def set_default(survey):
    """Make the survey the one shown where a place names none; it needs a live question."""
    if not survey.live_questions:
        raise SetupProblem(_("“%(name)s” has no question yet: add one before making it the "
                             "default, or customers would see no survey at all.",
                             name=survey.name))
    for each in db.session.scalars(db.select(Survey).filter_by(brand_id=survey.brand_id)):
        each.is_default = each is survey
    db.session.commit()
    return survey


def _prompt(prompt):
    cleaned = {lang: strip(prompt.get(lang) or "") for lang in LANGUAGES}
    for lang, text in cleaned.items():
        if len(text) > PROMPT_MAX:
            raise SetupProblem(_("Please use at most %(max)d characters for the question (it "
                                 "has %(length)d).", max=PROMPT_MAX, length=len(text)),
                              f"prompt_{lang}")
    cleaned = {lang: text for lang, text in cleaned.items() if text}
    if not cleaned:
        raise SetupProblem(_l("Please write the question in English, in Turkish, or in both."),
                          "prompt_en")
    return cleaned


def _choices(choices):
    """Return stored choices for [{"en": label, "tr": label}]: values come from the labels."""
    stored, seen = [], {}
    for number, labels in enumerate(choices, start=1):
        labels = {lang: strip(labels.get(lang) or "") for lang in LANGUAGES}
        labels = {lang: text for lang, text in labels.items() if text}
        if not labels:
            raise SetupProblem(_("Choice %(number)d has no label: write it as “English | "
                                 "Türkçe”.", number=number), "choices")
        for text in labels.values():
            if len(text) > CHOICE_MAX:
                raise SetupProblem(_("“%(label)s” is too long: please use at most %(max)d "
                                     "characters for a choice.", label=text[:CHOICE_MAX] + "…",
                                     max=CHOICE_MAX), "choices")
        label = labels.get("en") or labels["tr"]
        # The value is what answers store, so it follows the English label and stays put.
        value = slugify(label) or f"choice-{number}"
        if value in seen:
            raise SetupProblem(_("“%(first)s” and “%(second)s” are the same choice: please "
                                 "list each choice once.", first=seen[value], second=label),
                              "choices")
        seen[value] = label
        stored.append({"value": value, "labels": labels})
    if len(stored) < CHOICES_MIN:
        raise SetupProblem(_l("A single-choice question needs at least two choices, one per "
                             "line."), "choices")
    if len(stored) > CHOICES_MAX:
        raise SetupProblem(_("Please offer at most %(max)d choices (there are %(count)d).",
                             max=CHOICES_MAX, count=len(stored)), "choices")
    return stored


def _checked(survey, kind, prompt, choices, question=None):
    if kind not in QUESTION_KINDS:
        raise SetupProblem(_l("Please choose one of the kinds of question offered."), "kind")
    if kind == "nps" and any(q.kind == "nps" and q is not question
                             for q in survey.live_questions):
        # Two "would you recommend us" questions would split one score in two.
        raise SetupProblem(_l("This survey already asks the NPS question (0–10): one is "
                             "enough."), "kind")
    return _prompt(prompt), _choices(choices) if kind == "choice" else []


def add_question(survey, kind, prompt, choices, required):
    """Add a question at the end. `prompt` is {"en", "tr"}, `choices` [{"en", "tr"}]."""
    prompt, choices = _checked(survey, kind, prompt, choices)
    position = max((q.position for q in survey.questions), default=-1) + 1
    question = Question(kind=kind, prompt=prompt, choices=choices, required=bool(required),
                        position=position)
    survey.questions.append(question)
    db.session.commit()
    return question


def answer_count(question):
    return db.session.scalar(db.select(db.func.count(Answer.id))
                             .filter_by(question_id=question.id))


def answer_counts(survey):
    """Return {question id: number of answers} for the survey's answered questions."""
    rows = db.session.execute(
        db.select(Answer.question_id, db.func.count(Answer.id))
        .join(Question, Question.id == Answer.question_id)
        .filter(Question.survey_id == survey.id).group_by(Answer.question_id))
    return dict(rows.all())


def _unanswered(question, message):
    # An answered question is only ever retired: its answers keep the meaning they were given.
    if answer_count(question):
        raise SetupProblem(message)


def update_question(question, kind, prompt, choices, required):
    """Change a question nobody has answered yet."""
    _unanswered(question, _l("This question already has answers, so it cannot be changed: "
                             "retire it and add a new one instead. Its answers are kept."))
    if question.retired_at is not None:
        raise SetupProblem(_l("This question is retired and can no longer be changed."))
    question.prompt, question.choices = _checked(question.survey, kind, prompt, choices,
                                                 question)
    question.kind, question.required = kind, bool(required)
    db.session.commit()
    return question


def delete_question(question):
    """Delete a question nobody has answered yet."""
    _unanswered(question, _l("This question already has answers, so it cannot be deleted: "
                             "retire it instead. Its answers are kept."))
    survey = question.survey
    survey.questions.remove(question)
    try:
        db.session.commit()
    except IntegrityError:
        # A customer answered it meanwhile: the foreign key keeps the answer, and so the question.
        db.session.rollback()
        raise SetupProblem(_l("A customer has just answered this question, so it was kept: "
                             "retire it instead.")) from None
    return survey


def retire_question(question):
    """Stop asking the question; it and its answers stay, listed as retired."""
    if question.retired_at is None:
        question.retired_at = utcnow()
        db.session.commit()
    return question


def move_question(question, direction):
    """Swap the question with the live one above ("up") or below ("down"); ends stay put."""
    if direction not in ("up", "down"):
        raise SetupProblem(_l("A question moves up or down."))
    survey = question.survey
    live = survey.live_questions
    if question not in live:
        raise SetupProblem(_l("A retired question is no longer asked, so it has no place."))
    at = live.index(question)
    other = at - 1 if direction == "up" else at + 1
    if 0 <= other < len(live):
        live[at], live[other] = live[other], live[at]
        # Renumber every question: older rows may share a position with their neighbours.
        retired = [q for q in survey.questions if q.retired_at is not None]
        for position, each in enumerate(live + retired):
            each.position = position
        db.session.commit()
        db.session.expire(survey, ["questions"])  # the session keeps objects past a commit
    return question


def surveys_of(brand):
    """Return the brand's surveys, the default first, then by name."""
    return db.session.scalars(db.select(Survey).filter_by(brand_id=brand.id)
                              .order_by(Survey.is_default.desc(), Survey.name, Survey.id)).all()


def places_by_survey(brand, surveys):
    """Return {survey id: [touchpoint]}: where each survey is shown, as customers get it."""
    default = next((s for s in sorted(surveys, key=lambda s: s.id)
                    if s.is_default and s.active), None)
    places = {s.id: [] for s in surveys}
    touchpoints = db.session.scalars(
        db.select(Touchpoint).filter_by(brand_id=brand.id, archived_at=None)
        .order_by(Touchpoint.position, Touchpoint.id))
    for touchpoint in touchpoints:
        # The same rule as Survey.for_touchpoint: its own active survey, else the default.
        own = touchpoint.survey if touchpoint.survey and touchpoint.survey.active else default
        if own is not None and own.id in places:
            places[own.id].append(touchpoint)
    return places
