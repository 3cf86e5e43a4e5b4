"""Retraining on corrections: a fixed held-out split and a fair comparison with the current model."""
from itertools import product

from classifier import retraining
from classifier.data import unseen_rows


def corrections(count):
    names = ["".join(letters) for letters in product("aeiklmrst", repeat=3)][:count]
    return [{"text": f"{name} room: the minibar charged me twice for one water",
             "context": "room", "category": "billing_payment", "sentiment": "negative"}
            for name in names]


def test_the_held_out_corrections_are_the_same_on_every_run_and_about_a_fifth():
    rows = corrections(200)
    first = [retraining.held_out(row) for row in rows]
    assert first == [retraining.held_out(row) for row in rows]
    assert 20 <= sum(first) <= 60


def test_both_models_are_scored_on_the_same_rows_neither_was_trained_on(seed_model):
    rows = corrections(40)
    model, report = retraining.retrain(rows, seed_model)
    held = sum(retraining.held_out(row) for row in rows)
    assert report["corrections_held_out"] == held
    assert report["corrections_trained_on"] == 40 - held
    assert report["new"]["examples"] == report["current"]["examples"] == len(unseen_rows()) + held
    assert model.metadata["examples"] == report["examples"]
    assert set(report["new"]["heads"]) == {"category", "sentiment", "urgency", "intent"}
    assert report["better_or_equal"] == (
        report["new"]["mean_macro_f1"] >= report["current"]["mean_macro_f1"])
    assert model.predict("the minibar charged me twice").category.label == "billing_payment"


def test_a_model_survives_the_trip_through_bytes(seed_model):
    from classifier import Classifier
    copy = Classifier.from_bytes(seed_model.to_bytes())
    text = "klima calismiyor, oda cok sicak"
    assert copy.predict(text).to_dict() == seed_model.predict(text).to_dict()
