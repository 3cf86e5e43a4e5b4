"""Retrain on the seed data plus a brand's corrections, and say whether it beats the current model.

Both models are scored on the same held-out rows, which neither was trained on: the project's
unseen messages (never used for training) and a fifth of the corrections, chosen by a hash of
their text so the split is the same on every run.
"""
import hashlib

from classifier.data import deduplicate, seed_rows, unseen_rows
from classifier.evaluation import evaluate
from classifier.labels import HEADS
from classifier.model import Classifier
from classifier.text import normalise

HELD_OUT_BUCKETS = 5  # one in five corrections is held out for scoring


def held_out(row):
    """Return True for the corrections kept out of training (about one in five)."""
    digest = hashlib.sha256(normalise(row["text"]).encode()).digest()
    return digest[0] % HELD_OUT_BUCKETS == 0


def summary(report):
    """Return {head: {accuracy, macro_f1}} and their mean macro-F1, from an evaluate() report."""
    heads = {head: {"accuracy": report[head]["accuracy"], "macro_f1": report[head]["macro_f1"]}
             for head in HEADS if head in report}
    mean = sum(h["macro_f1"] for h in heads.values()) / len(heads) if heads else 0.0
    return {"examples": report["examples"], "heads": heads, "mean_macro_f1": round(mean, 4)}


def retrain(corrections, current):
    """Train a model on seed + `corrections`; return (model, report comparing it with `current`).

    `corrections` are dict rows with "text", the corrected heads' labels and an optional
    "context" (touchpoint kind). report["better_or_equal"] says whether to swap the new model in.
    """
    training_rows = [row for row in corrections if not held_out(row)]
    scoring_rows = unseen_rows() + [row for row in corrections if held_out(row)]
    model = Classifier.train(deduplicate(seed_rows()) + training_rows)
    new, old = summary(evaluate(model, scoring_rows)), summary(evaluate(current, scoring_rows))
    report = {
        "examples": model.metadata["examples"],
        "corrections_trained_on": len(training_rows),
        "corrections_held_out": len(corrections) - len(training_rows),
        "new": new,
        "current": old,
        "better_or_equal": new["mean_macro_f1"] >= old["mean_macro_f1"],
    }
    return model, report
