"""The CSV export: parsed back by the csv module, BOM, formulas neutralised, Turkish letters."""
import csv
import io

import pytest

from app.reports.export import neutral
from models import Answer, Question, SurveyResponse, Team, db

from ..inbox.staff import Staff
from .conftest import MONDAY, WEEK, add, member, rate


def export(staff, **query):
    """Fetch the export; buffered: the test client's request context ends with open()."""
    return staff.client.get("/reports/conversations.csv", query_string=query, buffered=True)


def parsed(answer):
    data = answer.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("value, kept", [("=1+1", "'=1+1"), ("+90 555", "'+90 555"),
                                         ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
                                         ("\tx", "'\tx"), ("Oda 412", "Oda 412"), (5, 5)])
def test_formulas_are_neutralised(value, kept):
    assert neutral(value) == kept


def test_one_row_per_conversation_with_turkish_letters_and_no_formula(app, demo, week):
    place = demo.touchpoints[0]
    place.label = "=HYPERLINK(\"http://evil.example\")"
    team = db.session.scalar(db.select(Team).filter_by(brand_id=demo.id))
    team.name = "Ön büro: Şükrü & Çağla"
    question = db.session.scalar(db.select(Question).filter_by(kind="rating"))
    db.session.add(SurveyResponse(survey_id=question.survey_id, brand_id=demo.id,
                                  conversation_id=week[0].id,
                                  answers=[Answer(question_id=question.id, number=4)]))
    db.session.commit()
    rate(week[0], csat=5, nps=10)
    lead = Staff(app, "lead@demo.example")
    answer = export(lead, **WEEK)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    header, *rows = parsed(answer)
    assert len(header) == 17 and len(rows) == 5
    first = dict(zip(header, rows[0], strict=True))
    assert first["Conversation"] == str(week[0].id)
    assert first["Created"] == "2026-03-02T12:00:00+03:00"
    assert first["Place"] == "'=HYPERLINK(\"http://evil.example\")"
    assert first["Team"] == "Ön büro: Şükrü & Çağla"
    assert first["Assignee"] == "Ayşe Demir"
    assert (first["First response (seconds)"], first["Resolution (seconds)"]) == ("60", "60")
    assert (first["CSAT"], first["NPS"]) == ("5", "10")
    assert first["Survey answers"] == "How is your stay?: 4"
    assert first["Link"] == f"http://kulak.test/inbox/c/{week[0].id}"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_export_keeps_the_filters(app, demo, week):
    add(demo, MONDAY, touchpoint=demo.touchpoints[1])
    lead = Staff(app, "manager@demo.example")
    rows = parsed(export(lead, **WEEK, touchpoint=str(demo.touchpoints[1].id)))[1:]
    assert len(rows) == 1


def test_agents_may_not_export(app, demo, week):
    assert member("agent@demo.example").role == "agent"
    agent = Staff(app, "agent@demo.example")
    assert export(agent, **WEEK).status_code == 403
