"""Every survey question kind renders, validates and stores its answer; skipping stores none."""
from bs4 import BeautifulSoup

from models import Answer, Question, Survey, SurveyResponse, db


def all_kinds_survey(brand):
    survey = Survey(brand_id=brand.id, name="Visit", is_default=True)
    survey.questions = [
        Question(position=0, kind="rating", prompt={"en": "How was it?", "tr": "Nasıldı?"}),
        Question(position=1, kind="yes_no", prompt={"en": "Was it clean?"}),
        Question(position=2, kind="choice", prompt={"en": "What did you come for?"},
                 choices=[{"value": "film", "labels": {"en": "A film", "tr": "Film"}},
                          {"value": "food", "labels": {"en": "Food"}}]),
        Question(position=3, kind="nps", prompt={"en": "Would you recommend us?"}),
        Question(position=4, kind="text", prompt={"en": "Anything else?"}),
    ]
    db.session.query(Survey).filter_by(brand_id=brand.id).update({"is_default": False})
    db.session.add(survey)
    db.session.commit()
    return survey


def test_each_kind_offers_its_options_in_the_customers_language(client, demo):
    survey = all_kinds_survey(demo)
    page = BeautifulSoup(client.get("/b/demo/web?lang=tr").text, "html.parser")
    rating, yes_no, choice, nps, text = survey.questions
    assert [i["value"] for i in page.select(f'input[name="{rating.field_name}"]')] == list("12345")
    assert [i["value"] for i in page.select(f'input[name="{yes_no.field_name}"]')] == ["yes", "no"]
    assert [i["value"] for i in page.select(f'input[name="{nps.field_name}"]')] == [
        str(n) for n in range(11)]
    labels = [s.get_text() for s in page.select(f'input[name="{choice.field_name}"] + span')]
    assert labels == ["Film", "Food"]  # Turkish where given, English otherwise
    assert page.select_one(f'input[name="{text.field_name}"]')["maxlength"] == "500"
    assert "Nasıldı?" in page.get_text()


def test_answers_of_every_kind_are_stored_as_numbers_or_text(client, demo):
    rating, yes_no, choice, nps, text = all_kinds_survey(demo).questions
    response = client.post("/b/demo/web", data={
        rating.field_name: "4", yes_no.field_name: "yes", choice.field_name: "food",
        nps.field_name: "0", text.field_name: "  The popcorn was stale  "})
    assert response.status_code == 303 and "r=" in response.headers["Location"]
    answers = {a.question_id: (a.number, a.text) for a in db.session.scalars(db.select(Answer))}
    assert answers == {rating.id: (4, None), yes_no.id: (1, None), choice.id: (None, "food"),
                       nps.id: (0, None), text.id: (None, "The popcorn was stale")}


def test_out_of_range_answers_are_refused_with_the_rest_kept(client, demo):
    rating, yes_no, choice, nps, text = all_kinds_survey(demo).questions
    response = client.post("/b/demo/web", data={
        rating.field_name: "0", choice.field_name: "drinks", nps.field_name: "11",
        yes_no.field_name: "no", text.field_name: "x" * 501})
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert len(page.select("p.error")) == 4
    assert page.select_one(f'input[name="{yes_no.field_name}"][value="no"]').has_attr("checked")
    assert db.session.scalar(db.select(db.func.count(SurveyResponse.id))) == 0


def test_submitting_nothing_counts_as_skipping(client, demo):
    all_kinds_survey(demo)
    response = client.post("/b/demo/web", data={})
    assert response.status_code == 303 and "r=" not in response.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(SurveyResponse.id))) == 0


def test_the_brand_language_applies_when_the_browser_asks_for_neither(client, demo):
    demo.default_language = "tr"
    db.session.commit()
    german = client.get("/b/demo/room-412", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="tr">' in german.text
    english = client.get("/b/demo/room-412", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in english.text
