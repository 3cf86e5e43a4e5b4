"""Odd input gets a defined answer, never an exception."""
import pytest

from classifier import DEFAULT_LABELS, HEADS

DEFINED = {"category": "other", "sentiment": "neutral", "urgency": "normal",
           "intent": "question"}


def labels(prediction):
    return {head: prediction.heads[head].label for head in HEADS}


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   \n\t ", "empty"),
    (None, "empty"),
    ("\x00\x01\x02\x1b[31m\x7f", "empty"),
    ("\u200b\u202e\ufeff", "empty"),
    ("1234567890", "no_words"),
    ("?!?!...", "no_words"),
    ("Das Zimmer ist sehr schmutzig und es gibt kein warmes Wasser", "unsupported_language"),
    ("Комната очень грязная, нет горячей воды", "unsupported_language"),
    ("房间很脏", "unsupported_language"),
])
def test_unreadable_text_gets_the_defined_answer(seed_model, text, reason):
    prediction = seed_model.predict(text)
    assert prediction.fallback == reason
    assert labels(prediction) == DEFINED
    assert prediction.category.confidence < 0.5
    assert prediction.intent.confidence < 0.5


def test_emoji_only_says_something_about_mood_only(seed_model):
    happy, angry = seed_model.predict("😍👍🙏"), seed_model.predict("😡😡🤬")
    assert happy.fallback == angry.fallback == "no_words"
    assert happy.sentiment.label == "positive" and angry.sentiment.label == "negative"
    assert happy.category.label == angry.category.label == "other"
    assert happy.urgency.label == angry.urgency.label == "normal"


def test_fallback_still_honours_the_context(seed_model):
    prediction = seed_model.predict("", survey={"rating": 1}, picked_category="cleanliness")
    assert prediction.category.label == "cleanliness"
    assert prediction.sentiment.label == "negative"


@pytest.mark.parametrize("text", [
    "oda kirli " * 10_000,  # 100,000 characters
    "a" * 100_000,
    "x\ud800y lone surrogate",
    b"bytes with \xff invalid utf-8 oda kirli",
    12345,
    "<script>alert('x')</script> the room is dirty",
    "oda\x00 kirli\x07 ve\x1b soguk",
    "ROOM 412 ‼️‼️ NO HOT WATER",
])
def test_odd_text_never_raises(seed_model, text):
    prediction = seed_model.predict(text)
    for head in HEADS:
        assert prediction.heads[head].label in DEFAULT_LABELS[head]
        assert 0.0 <= prediction.heads[head].confidence <= 1.0


@pytest.mark.parametrize("survey", [
    "not a dict", {"rating": "abc"}, {"rating": float("nan")}, {"nps": 11},
    {"rating": None}, {"q1": {"kind": "yes_no", "value": 0}}, {"rating": [1, 2]}, {},
])
def test_odd_context_never_raises(seed_model, survey):
    prediction = seed_model.predict("the room is fine", survey=survey,
                                    picked_category=["not", "a", "string"],
                                    touchpoint_kind={"room": 1})
    assert prediction.sentiment.label in DEFAULT_LABELS["sentiment"]
