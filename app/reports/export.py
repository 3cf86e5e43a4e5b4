"""The report's conversations as CSV: streamed in batches, in constant memory."""
import csv
import io
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func

from app.reports import stats
from app.reports.tally import in_period
from models import (
    Answer,
    Category,
    Conversation,
    Question,
    StaffMember,
    Survey,
    SurveyResponse,
    Team,
    Touchpoint,
    db,
)
from models.common import localized

C = Conversation
BATCH = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value):
    """Return `value` as a spreadsheet keeps it: text that would run as a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def header():
    return [_("Conversation"), _("Created"), _("Place"), _("Category"), _("Sentiment"),
            _("Urgency"), _("Intent"), _("Status"), _("Assignee"), _("Team"),
            _("First response (seconds)"), _("Resolution (seconds)"), "CSAT", "NPS",
            _("Survey answers"), _("Escalation level"), _("Link")]


def _names(brand_id, language):
    """Return the brand's small lookups once: no join per row for a label."""
    def pairs(query):
        return dict(db.session.execute(query).all())
    categories = {c.id: c.label(language) for c in db.session.scalars(
        db.select(Category).filter_by(brand_id=brand_id))}
    questions = {q.id: q for q in db.session.scalars(
        db.select(Question).join(Survey).where(Survey.brand_id == brand_id))}
    return {"touchpoint": pairs(db.select(Touchpoint.id, Touchpoint.label).where(
                Touchpoint.brand_id == brand_id)),
            "category": categories, "questions": questions,
            "staff": pairs(db.select(StaffMember.id, func.coalesce(
                StaffMember.name, StaffMember.email)).where(StaffMember.brand_id == brand_id)),
            "team": pairs(db.select(Team.id, Team.name).where(Team.brand_id == brand_id))}


def _answers(conversation_ids, questions, language):
    """Return {conversation id: "question: answer; ..."} for one batch, in one query."""
    query = db.select(SurveyResponse.conversation_id, Answer.question_id, Answer.number,
                      Answer.text).join(SurveyResponse).where(
        SurveyResponse.conversation_id.in_(conversation_ids)).order_by(Answer.id)
    found = {}
    for conversation_id, question_id, number, text in db.session.execute(query):
        question = questions.get(question_id)
        if question is None:
            continue
        if question.kind == "yes_no":
            shown = {1: _("yes"), 0: _("no")}.get(number, "")
        elif question.kind == "choice":
            shown = dict(question.choice_options(language)).get(text, text or "")
        else:
            shown = text if number is None else str(number)
        found.setdefault(conversation_id, []).append(
            f"{localized(question.prompt, language) or question.id}: {shown}")
    return {key: "; ".join(parts) for key, parts in found.items()}


def rows(scope, period, brand, language):
    """Yield the CSV, a batch of rows at a time, as UTF-8 bytes with a byte-order mark."""
    names, zone = _names(brand.id, language), ZoneInfo(brand.timezone)
    public = current_app.config["PUBLIC_URL"]
    link = url_for("inbox.conversation", conversation_id=0).rsplit("0", 1)[0]
    query = db.select(
        C.id, C.created_at, C.touchpoint_id, C.category_id, C.sentiment, C.urgency, C.intent,
        C.status, C.assignee_id, C.team_id,
        stats.seconds_between(C.created_at, C.first_response_at),
        stats.seconds_between(C.created_at, C.resolved_at), C.csat, C.nps,
        C.escalated_level,
    ).where(
        *scope, *in_period(period)).order_by(C.created_at, C.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # spreadsheets then read UTF-8: Turkish letters stay whole
    writer.writerow(header())
    yield _drain(buffer)
    # yield_per streams: a server-side cursor on PostgreSQL, so memory holds one batch.
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for batch in result.partitions():
        answers = _answers([row[0] for row in batch], names["questions"], language)
        for (cid, created, touchpoint, category, sentiment, urgency, intent, status, assignee,
             team, first, resolved, csat, nps, level) in batch:
            writer.writerow([neutral(value) for value in (
                cid, created.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).isoformat(
                    timespec="seconds"),
                names["touchpoint"].get(touchpoint, ""), names["category"].get(category, ""),
                sentiment or "", urgency or "", intent or "", status,
                names["staff"].get(assignee, ""), names["team"].get(team, ""),
                _whole(first), _whole(resolved), csat, nps, answers.get(cid, ""), level,
                f"{public}{link}{cid}")])
        yield _drain(buffer)


def _whole(seconds):
    return None if seconds is None else round(float(seconds))


def _drain(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")
