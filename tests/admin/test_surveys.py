"""The survey builder without JavaScript: surveys, questions of every kind, refusals, order,
retiring answered questions, the preview, and what customers then get."""
import pytest

from models import Answer, Question, Survey, SurveyResponse, Touchpoint, db

from ..inbox.staff import Staff, form_values, soup

SURVEYS = "/admin/surveys"
QUESTION_FORM = "form#question-form"
REQUIRED_MESSAGE = "Please answer this question, or skip the questions."


def text_of(response):
    return " ".join(soup(response).get_text(" ").split())


def survey_named(name):
    db.session.expire_all()
    return db.session.scalar(db.select(Survey).filter_by(name=name))


def questions_of(survey_id):
    db.session.expire_all()
    return db.session.scalars(db.select(Question).filter_by(survey_id=survey_id)
                              .order_by(Question.position, Question.id)).all()


def create(admin, name):
    created = admin.submit(admin.get(SURVEYS), "#new-survey", name=name)
    assert created.status_code == 303, created.text
    survey = survey_named(name.strip())
    assert created.headers["Location"] == f"{SURVEYS}/{survey.id}"
    return survey.id


def add(admin, survey_id, kind, en="", tr="", choices="", required=None):
    page = admin.get(f"{SURVEYS}/{survey_id}")
    return admin.submit(page, QUESTION_FORM, kind=kind, prompt_en=en, prompt_tr=tr,
                        choices=choices, required=required)


def added(admin, survey_id, kind, en="", **fields):
    response = add(admin, survey_id, kind, en, **fields)
    assert response.status_code == 303, text_of(response)[:1500]
    return questions_of(survey_id)[-1]


def use_at(slug, survey_id):
    """Choose the survey of the demo's place `slug` (the places page belongs to another suite)."""
    touchpoint = db.session.scalar(db.select(Touchpoint).filter_by(slug=slug))
    touchpoint.survey_id = survey_id
    db.session.commit()


def customer_answers(client, url, **chosen):
    """Open the customer survey at `url`; post it with {prompt: value} chosen."""
    page = client.get(url)
    form = soup(page).select_one("form.survey")
    names = {fs.legend.get_text(): fs.select_one("input")["name"]
             for fs in form.select("fieldset")}
    data = form_values(form) | {names[prompt]: value for prompt, value in chosen.items()}
    return client.post(url, data=data)


def prompts_on(response):
    return [legend.get_text() for legend in soup(response).select("form.survey legend")]


def test_a_new_survey_is_named_then_needs_a_question_to_become_the_default(admin, client):
    survey_id = create(admin, "  Dinner  ")
    builder = admin.get(f"{SURVEYS}/{survey_id}")
    assert ("This survey has no question yet: customers skip straight to “How can we help?”."
            in text_of(builder))
    listing = soup(admin.get(SURVEYS))
    row = listing.select_one(f"#survey-{survey_id}")
    assert "none yet" in row.get_text() and "Add a question first" in row.get_text()
    stay_row = next(r for r in listing.select("tbody tr") if "Stay" in r.get_text())
    assert "Default" in stay_row.get_text()
    assert "Room 412, Table 7, Website" in stay_row.get_text()

    refused = admin.submit(builder, "#make-default")
    assert refused.status_code == 422
    assert "has no question yet: add one before making it the default" in text_of(refused)
    assert not survey_named("Dinner").is_default and survey_named("Stay").is_default

    for name, reason in (("x" * 121, "at most 120 characters"), ("   ", "Please give the "
                         "survey a name."), ("STAY", "You already have a survey called")):
        refused = admin.submit(builder, "#rename", name=name)
        assert refused.status_code == 422 and reason in text_of(refused), name
        assert soup(refused).select_one("#rename input[name=name]")["value"] == name.strip()
    assert admin.submit(builder, "#rename", name="Dinner menu").status_code == 303
    assert survey_named("Dinner menu").id == survey_id

    added(admin, survey_id, "yes_no", "Did you enjoy the food?")
    listing = admin.get(SURVEYS)
    made = admin.submit(listing, f"#survey-{survey_id} form")
    assert made.status_code == 303 and made.headers["Location"] == SURVEYS
    assert survey_named("Dinner menu").is_default and not survey_named("Stay").is_default
    row = soup(admin.get(SURVEYS)).select_one(f"#survey-{survey_id}")
    assert "Room 412, Table 7, Website" in row.get_text()
    assert prompts_on(client.get("/b/demo/room-412")) == ["Did you enjoy the food?"]


def test_refused_survey_names_keep_what_was_typed(admin):
    for name, reason in (("x" * 121, "it has 121"), ("", "Please give the survey a name.")):
        refused = admin.submit(admin.get(SURVEYS), "#new-survey", name=name)
        assert refused.status_code == 422 and reason in text_of(refused)
        assert soup(refused).select_one("#new-survey input[name=name]").get("value", "") == name
    assert db.session.scalar(db.select(db.func.count(Survey.id))) == 1


def test_each_kind_is_added_and_customers_get_it_in_their_language(admin, client):
    survey_id = create(admin, "Visit")
    added(admin, survey_id, "rating", "How was it?", tr="Nasıldı?", required="y")
    added(admin, survey_id, "yes_no", "Was it clean?", tr="Temiz miydi?")
    added(admin, survey_id, "choice", "What did you come for?", tr="Ne için geldiniz?",
          choices="Breakfast | Kahvaltı\r\n\r\n  Late check-out  \r\n| Spa günü")
    added(admin, survey_id, "nps", "Would you recommend us?")
    added(admin, survey_id, "text", tr="Başka bir şey?")
    rating, yes_no, choice, nps, text = questions_of(survey_id)
    assert [(q.kind, q.position, q.required) for q in (rating, yes_no, choice, nps, text)] == [
        ("rating", 0, True), ("yes_no", 1, False), ("choice", 2, False), ("nps", 3, False),
        ("text", 4, False)]
    assert choice.choices == [
        {"value": "breakfast", "labels": {"en": "Breakfast", "tr": "Kahvaltı"}},
        {"value": "late-check-out", "labels": {"en": "Late check-out"}},
        {"value": "spa-gunu", "labels": {"tr": "Spa günü"}}]
    assert text.prompt == {"tr": "Başka bir şey?"} and nps.prompt == {
        "en": "Would you recommend us?"}
    assert rating.choices == [] and rating.retired_at is None

    builder = text_of(admin.get(f"{SURVEYS}/{survey_id}"))
    for shown in ("Rating from 1 to 5 · required", "Single choice · optional",
                  "Breakfast | Kahvaltı", "No English text: those customers read the other"):
        assert shown in builder
    use_at("table-7", survey_id)
    turkish = client.get("/b/demo/table-7?lang=tr")
    assert prompts_on(turkish) == ["Nasıldı?", "Temiz miydi?", "Ne için geldiniz?",
                                   "Would you recommend us?", "Başka bir şey?"]
    labels = [s.get_text() for s in soup(turkish).select(f'input[name="q{choice.id}"] + span')]
    assert labels == ["Kahvaltı", "Late check-out", "Spa günü"]
    assert prompts_on(client.get("/b/demo/table-7?lang=en"))[4] == "Başka bir şey?"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"kind": "choice", "choices": "Tea | Çay"}, "needs at least two choices"),
    ({"kind": "choice", "choices": ""}, "needs at least two choices"),
    ({"kind": "choice", "choices": "Tea | Çay\nTEA!"}, "“Tea” and “TEA!” are the same choice"),
    ({"kind": "choice", "choices": "\n".join(f"Option {n}" for n in range(13))},
     "at most 12 choices (there are 13)"),
    ({"kind": "choice", "choices": "Tea\n" + "x" * 81}, "at most 80 characters for a choice"),
    ({"kind": "choice", "choices": "Tea\n | \nCoffee"}, "Choice 2 has no label"),
    ({"kind": "rating", "prompt_en": "", "prompt_tr": "  "},
     "Please write the question in English, in Turkish, or in both."),
    ({"kind": "rating", "prompt_tr": "ç" * 201}, "at most 200 characters for the question"),
    ({"kind": "poll"}, "Please choose one of the kinds of question offered."),
    ({"kind": "nps"}, "already asks the NPS question"),
])
def test_bad_questions_are_refused_with_the_reason_and_kept(admin, fields, reason):
    survey_id = create(admin, "Spa")
    added(admin, survey_id, "nps", "Would you recommend our spa?")
    typed = {"prompt_en": "What would you like?", "prompt_tr": "", "choices": ""} | fields
    refused = admin.submit(admin.get(f"{SURVEYS}/{survey_id}"), QUESTION_FORM, **typed)
    assert refused.status_code == 422
    assert reason in text_of(refused)
    form = soup(refused).select_one(QUESTION_FORM)
    assert form.select_one("[aria-invalid=true]") is not None
    kept = form_values(form)
    assert (kept["prompt_en"], kept["prompt_tr"]) == (typed["prompt_en"].strip(),
                                                      typed["prompt_tr"].strip())
    assert kept["choices"].strip() == typed["choices"].strip()
    assert [q.kind for q in questions_of(survey_id)] == ["nps"]


def order(survey_id):
    return [q.prompt["en"] for q in questions_of(survey_id) if q.retired_at is None]


def test_questions_move_up_and_down_with_and_without_htmx(admin, client):
    survey_id = create(admin, "Order")
    first, second, third = (added(admin, survey_id, "yes_no", p).id for p in ("A?", "B?", "C?"))
    builder = admin.get(f"{SURVEYS}/{survey_id}")
    page = soup(builder)
    for form in page.select("[hx-post]"):  # every htmx control is a real form without script
        assert form.name == "form" and form["method"] == "post" and form["action"] == form[
            "hx-post"] and form.select_one("input[name=csrf_token]")
    assert page.select_one(f"#up-{first}") is None and page.select_one(f"#down-{third}") is None

    moved = admin.submit(builder, f"form:has(#up-{third})")
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"#question-{third}")
    assert order(survey_id) == ["A?", "C?", "B?"]

    swapped = admin.submit(admin.get(f"{SURVEYS}/{survey_id}"), f"form:has(#down-{first})",
                           htmx=True)
    assert swapped.status_code == 200 and "<html" not in swapped.text
    fragment = soup(swapped).select_one("section#questions")
    assert [li["id"] for li in fragment.select("ol.questions > li")] == [
        f"question-{third}", f"question-{first}", f"question-{second}"]
    assert order(survey_id) == ["C?", "A?", "B?"]

    # The first question cannot go higher: asking leaves the order as it is.
    top = f"{SURVEYS}/{survey_id}/questions/{third}/up"
    assert admin.client.post(top, data={"csrf_token": admin.token}).status_code == 303
    assert order(survey_id) == ["C?", "A?", "B?"]
    use_at("web", survey_id)
    assert prompts_on(client.get("/b/demo/web")) == ["C?", "A?", "B?"]


def test_unanswered_questions_are_edited_and_deleted(admin):
    survey_id = create(admin, "Edits")
    question = added(admin, survey_id, "rating", "How was the pool?")
    other = added(admin, survey_id, "nps", "Would you recommend us?").id
    edit_url = f"{SURVEYS}/{survey_id}/questions/{question.id}"
    page = admin.get(edit_url)
    assert page.status_code == 200
    assert form_values(soup(page).select_one(QUESTION_FORM))["prompt_en"] == "How was the pool?"
    refused = admin.submit(page, QUESTION_FORM, kind="nps")
    assert refused.status_code == 422 and "already asks the NPS question" in text_of(refused)
    saved = admin.submit(page, QUESTION_FORM, kind="choice", prompt_en="Which pool?",
                         prompt_tr="Hangi havuz?", choices="Indoor | Kapalı\nOutdoor | Açık",
                         required="y")
    assert saved.status_code == 303
    edited = questions_of(survey_id)[0]
    assert (edited.id, edited.kind, edited.prompt, edited.required) == (
        question.id, "choice", {"en": "Which pool?", "tr": "Hangi havuz?"}, True)
    assert [c["value"] for c in edited.choices] == ["indoor", "outdoor"]
    again = form_values(soup(admin.get(edit_url)).select_one(QUESTION_FORM))
    assert again["choices"].strip() == "Indoor | Kapalı\nOutdoor | Açık"

    deleted = admin.submit(admin.get(f"{SURVEYS}/{survey_id}"),
                           f'form[action$="/questions/{other}/delete"]')
    assert deleted.status_code == 303
    assert [q.id for q in questions_of(survey_id)] == [question.id]
    assert admin.get(f"{SURVEYS}/{survey_id}/questions/{other}").status_code == 404


def test_answered_questions_are_retired_never_changed_and_their_answers_stay(admin, client):
    stay = survey_named("Stay")
    rating, yes_no = stay.questions
    answered = customer_answers(client, "/b/demo/room-412",
                                **{"How is your stay?": "4", "Was your room clean?": "yes"})
    assert answered.status_code == 303
    before = sorted((a.question_id, a.number) for a in db.session.scalars(db.select(Answer)))
    assert before == sorted([(rating.id, 4), (yes_no.id, 1)])

    builder = admin.get(f"{SURVEYS}/{stay.id}")
    item = soup(builder).select_one(f"#question-{rating.id}")
    assert "1 answer" in item.get_text()
    assert item.select_one('form[action$="/delete"]') is None and "Edit" not in item.get_text()

    edit_url = f"{SURVEYS}/{stay.id}/questions/{rating.id}"
    page = admin.get(edit_url)
    assert "already has answers, so it cannot be changed" in text_of(page)
    assert soup(page).select_one('input[name="prompt_en"]') is None
    data = {"csrf_token": admin.token, "kind": "rating", "prompt_en": "How was the stay?"}
    refused = admin.client.post(edit_url, data=data)
    assert refused.status_code == 422 and "cannot be changed" in text_of(refused)
    refused = admin.client.post(f"{edit_url}/delete", data={"csrf_token": admin.token})
    assert refused.status_code == 422 and "cannot be deleted: retire it instead" in text_of(
        refused)
    assert questions_of(stay.id)[0].prompt["en"] == "How is your stay?"

    retired = admin.submit(builder, f'form[action$="/questions/{rating.id}/retire"]')
    assert retired.status_code == 303
    db.session.expire_all()
    assert db.session.get(Question, rating.id).retired_at is not None
    after = sorted((a.question_id, a.number) for a in db.session.scalars(db.select(Answer)))
    assert after == before
    listed = soup(admin.get(f"{SURVEYS}/{stay.id}"))
    assert [li.get_text(" ", strip=True) for li in listed.select("ul.retired li")] == [
        "Rating from 1 to 5 · retired · 1 answer How is your stay?"]
    assert len(listed.select("ol.questions > li")) == 1

    assert prompts_on(client.get("/b/demo/room-412")) == ["Was your room clean?"]
    assert customer_answers(client, "/b/demo/room-412",
                            **{"Was your room clean?": "no"}).status_code == 303
    assert db.session.scalar(db.select(db.func.count(Answer.id))) == 3
    preview = admin.get(f"{SURVEYS}/{stay.id}/preview")
    assert prompts_on(preview) == ["Was your room clean?"]


def test_a_required_question_must_be_answered_unless_the_customer_skips(admin, client):
    survey_id = create(admin, "Checkout")
    added(admin, survey_id, "rating", "Rate your checkout", required="y")
    added(admin, survey_id, "yes_no", "Will you come back?")
    admin.submit(admin.get(f"{SURVEYS}/{survey_id}"), "#make-default")
    assert survey_named("Checkout").is_default

    refused = customer_answers(client, "/b/demo/room-412", **{"Will you come back?": "yes"})
    assert refused.status_code == 422
    assert REQUIRED_MESSAGE in text_of(refused)
    assert db.session.scalar(db.select(db.func.count(SurveyResponse.id))) == 0
    skip = soup(refused).find("a", string="Skip the questions")["href"]
    assert client.get(skip).status_code == 200 and "How can we help" in text_of(client.get(skip))
    accepted = customer_answers(client, "/b/demo/room-412", **{"Rate your checkout": "5"})
    assert accepted.status_code == 303
    assert db.session.scalar(db.select(Answer.number)) == 5


def test_the_preview_shows_the_customer_survey_and_records_nothing(admin):
    survey_id = create(admin, "Bar")
    added(admin, survey_id, "rating", "How was the bar?", tr="Bar nasıldı?", required="y")
    added(admin, survey_id, "choice", "Your drink?", tr="İçeceğiniz?",
          choices="Tea | Çay\nCoffee | Kahve")
    url = f"{SURVEYS}/{survey_id}/preview"
    english = admin.get(url, query_string={"lang": "en"})
    assert english.status_code == 200
    assert "Preview: nothing is recorded." in text_of(english)
    assert prompts_on(english) == ["How was the bar?", "Your drink?"]
    turkish = admin.get(url, query_string={"lang": "tr"})
    assert prompts_on(turkish) == ["Bar nasıldı?", "İçeceğiniz?"]
    assert "Çay" in text_of(turkish)
    form = soup(english).select_one("form.survey")
    assert form.get("action") in (None, "", url)  # posts back to the preview, nowhere else
    skip = soup(english).find("a", string="Skip the questions")["href"]
    assert skip.startswith(url) and "nothing is recorded" in text_of(admin.get(skip))

    checked = admin.client.post(url, data=form_values(form))  # no CSRF token needed: inert
    assert checked.status_code == 422 and REQUIRED_MESSAGE in text_of(checked)
    names = [i["name"] for i in form.select("input[type=radio]")]
    accepted = admin.client.post(url, data=form_values(form) | {names[0]: "3"})
    assert accepted.status_code == 200 and "would be accepted" in text_of(accepted)
    assert db.session.scalar(db.select(db.func.count(SurveyResponse.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0

    empty_id = create(admin, "Empty")
    assert "This survey has no question yet" in text_of(admin.get(f"{SURVEYS}/{empty_id}/preview"))


def test_another_brands_surveys_and_questions_are_absent(admin, other_brand):
    brand, _owner, _token = other_brand
    theirs = db.session.scalar(db.select(Survey).filter_by(brand_id=brand.id))
    their_question = theirs.questions[0]
    before = (theirs.name, theirs.is_default, [(q.id, q.kind, q.prompt, q.position, q.retired_at)
                                               for q in theirs.questions])
    mine = create(admin, "Mine")
    base = f"{SURVEYS}/{theirs.id}"
    token = {"csrf_token": admin.token}
    for url in (base, f"{base}/preview", f"{base}/questions/{their_question.id}",
                f"{SURVEYS}/{mine}/questions/{their_question.id}"):
        assert admin.get(url).status_code == 404, url
    for url, data in (
            (f"{base}/name", {"name": "Stolen"}), (f"{base}/default", {}),
            (f"{base}/questions", {"kind": "yes_no", "prompt_en": "Hacked?"}),
            (f"{base}/questions/{their_question.id}", {"kind": "text", "prompt_en": "Hacked?"}),
            (f"{base}/questions/{their_question.id}/up", {}),
            (f"{base}/questions/{their_question.id}/retire", {}),
            (f"{base}/questions/{their_question.id}/delete", {}),
            (f"{SURVEYS}/{mine}/questions/{their_question.id}/retire", {}),
            (f"{SURVEYS}/{mine}/questions/{their_question.id}/delete", {})):
        assert admin.client.post(url, data=token | data).status_code == 404, url
    db.session.expire_all()
    theirs = db.session.get(Survey, theirs.id)
    assert (theirs.name, theirs.is_default, [(q.id, q.kind, q.prompt, q.position, q.retired_at)
                                             for q in theirs.questions]) == before
    assert questions_of(mine) == []
    assert "Feedback" not in text_of(admin.get(SURVEYS))


def test_without_the_csrf_token_nothing_changes(admin):
    stay = survey_named("Stay")
    first = stay.questions[1].id
    for url, data in ((SURVEYS, {"name": "Forged"}),
                      (f"{SURVEYS}/{stay.id}/questions", {"kind": "text", "prompt_en": "Hi?"}),
                      (f"{SURVEYS}/{stay.id}/questions/{first}/up", {}),
                      (f"{SURVEYS}/{stay.id}/questions/{first}/delete", {})):
        assert admin.client.post(url, data=data).status_code == 400, url
    assert [s.name for s in db.session.scalars(db.select(Survey))] == ["Stay"]
    assert [q.prompt["en"] for q in questions_of(stay.id)] == [
        "How is your stay?", "Was your room clean?"]


def test_only_managers_and_admins_build_surveys(app, demo):
    lead = Staff(app, "lead@demo.example")
    assert lead.get(SURVEYS).status_code == 403
    stay = survey_named("Stay")
    assert lead.get(f"{SURVEYS}/{stay.id}/preview").status_code == 403
