"""The four heads: labels, confidences, reasons, context, determinism, persistence."""
import pytest

from classifier import DEFAULT_LABELS, HEADS, Classifier, evaluate
from classifier.data import deduplicate, seed_rows, unseen_rows

DESIGN_URGENT = [
    "there's water leaking from the ceiling",
    "40 dakikadır bekliyoruz hala gelmedi",
    "acil oda kapısı kilitli kaldım",
]


def assert_well_formed(prediction):
    assert set(prediction.heads) == set(HEADS)
    for head in HEADS:
        result = prediction.heads[head]
        assert result.label in DEFAULT_LABELS[head]
        assert 0.0 <= result.confidence <= 1.0
        assert set(result.probabilities) == set(DEFAULT_LABELS[head])
        assert sum(result.probabilities.values()) == pytest.approx(1.0)
        assert result.confidence == pytest.approx(result.probabilities[result.label])


@pytest.mark.parametrize("text", [
    "the room is filthy", "oda cok kirli", "do you have this in size M?",
    "kargom nerede", "great breakfast, thank you!", "please add vegan options"])
def test_every_head_returns_a_known_label_and_a_confidence(seed_model, text):
    assert_well_formed(seed_model.predict(text))


@pytest.mark.parametrize("text", DESIGN_URGENT)
def test_design_urgency_examples_are_urgent(seed_model, text):
    assert seed_model.predict(text).urgency.label == "urgent"


@pytest.mark.parametrize("text", [
    "what time is breakfast", "kahvalti saat kacta", "do you have this in blue?",
    "thanks for a lovely stay"])
def test_ordinary_messages_are_normal(seed_model, text):
    assert seed_model.predict(text).urgency.label == "normal"


@pytest.mark.parametrize(("text", "category", "sentiment", "intent"), [
    ("the room is filthy, the sheets have stains", "cleanliness", "negative", "complaint"),
    ("klima calismiyor oda cok sicak", "facilities", "negative", "complaint"),
    ("odeme sayfasi hata veriyor", "technical", "negative", "complaint"),
    ("is this jacket available in size L?", "product_question", "neutral", "question"),
    ("the waiter was so kind, thank you", "staff_service", "positive", "praise"),
    ("menuye vegan secenek ekleseniz iyi olur", "food_drink", "neutral", "suggestion"),
])
def test_clear_messages_get_the_expected_labels(seed_model, text, category, sentiment, intent):
    prediction = seed_model.predict(text)
    assert (prediction.category.label, prediction.sentiment.label, prediction.intent.label) == \
        (category, sentiment, intent)


def test_why_terms_name_words_of_the_message(seed_model):
    text = "The bathroom is FILTHY and the towels smell"
    prediction = seed_model.predict(text)
    for head in HEADS:
        assert prediction.heads[head].why, head
    assert any(term.lower() in {"filthy", "bathroom", "towels"}
               for term in prediction.category.why)
    words = set(text.split())
    assert all(set(term.split()) <= words | {"touchpoint:room"}
               for term in prediction.category.why)
    assert seed_model.predict(text, explain=False).category.why == ()


def test_survey_rating_moves_sentiment(seed_model):
    text = "I stayed in room 12 last night"
    low = seed_model.predict(text, survey={"rating": 1}).sentiment.probabilities["negative"]
    none = seed_model.predict(text).sentiment.probabilities["negative"]
    high = seed_model.predict(text, survey={"rating": 5}).sentiment.probabilities["negative"]
    assert low > none > high
    said_no = seed_model.predict(text, survey={"clean": False}).sentiment
    said_yes = seed_model.predict(text, survey={"clean": True}).sentiment
    assert said_no.probabilities["negative"] > said_yes.probabilities["negative"]


def test_picked_category_is_a_prior_not_an_override(seed_model):
    vague = "hello, I need some help with something"
    before = seed_model.predict(vague).category.probabilities["billing_payment"]
    after = seed_model.predict(vague, picked_category="billing_payment").category
    assert after.probabilities["billing_payment"] > before
    clear = seed_model.predict("the AC is broken and the room is boiling hot",
                               picked_category="billing_payment")
    assert clear.category.label == "facilities"
    unknown = seed_model.predict(vague, picked_category="not-a-category").category
    assert unknown.probabilities == seed_model.predict(vague).category.probabilities


def test_touchpoint_kind_is_a_feature(seed_model):
    text = "it is cold"
    at_table = seed_model.predict(text, touchpoint_kind="table").category.probabilities
    in_room = seed_model.predict(text, touchpoint_kind="room").category.probabilities
    assert at_table != in_room
    assert_well_formed(seed_model.predict(text, touchpoint_kind="spaceship"))


def test_training_is_deterministic():
    rows = deduplicate(seed_rows())[::4]
    first, second = Classifier.train(rows), Classifier.train(rows)
    for row in unseen_rows()[:60]:
        a, b = first.predict(row["text"]), second.predict(row["text"])
        assert a.to_dict(probabilities=True) == b.to_dict(probabilities=True)


def test_save_and_load_round_trip(seed_model, saved_model):
    loaded = Classifier.load(saved_model)
    for row in unseen_rows()[:40]:
        assert loaded.predict(row["text"]).to_dict(probabilities=True) == \
            seed_model.predict(row["text"]).to_dict(probabilities=True)
    metadata = loaded.metadata
    assert metadata["format"] >= 1 and metadata["trained_at"]
    assert metadata["examples"] == len(deduplicate(seed_rows()))
    for head in HEADS:
        assert 0.0 <= metadata["evaluation"][head]["macro_f1"] <= 1.0
    assert not list(saved_model.parent.glob(".*"))  # no temporary file left behind


def test_loading_another_format_fails_clearly(tmp_path):
    import joblib
    path = tmp_path / "old.joblib"
    joblib.dump({"format": 0, "classifier": None}, path)
    with pytest.raises(ValueError, match="format"):
        Classifier.load(path)


def test_training_needs_text_and_two_labels():
    with pytest.raises(ValueError):
        Classifier.train([{"text": "", "category": "other"}])
    with pytest.raises(ValueError):
        Classifier.train([{"text": "a", "category": "other"}, {"text": "b", "category": "other"}])


def test_evaluate_reports_every_head(seed_model):
    rows = unseen_rows()[:80]
    report = evaluate(seed_model, rows)
    assert report["examples"] == len(rows)
    for head in HEADS:
        figures = report[head]
        assert 0.0 <= figures["accuracy"] <= 1.0 and 0.0 <= figures["macro_f1"] <= 1.0
        size = len(figures["labels"])
        assert len(figures["confusion_matrix"]) == size
        assert all(len(line) == size for line in figures["confusion_matrix"])
        assert sum(map(sum, figures["confusion_matrix"])) == len(rows)
