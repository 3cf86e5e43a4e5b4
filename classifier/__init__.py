"""Kulak's message classifier: category, sentiment, urgency and intent, Turkish and English.

A pure package (no Flask, no database): the app and the background jobs call it.

    from classifier import load_or_build
    model = load_or_build()          # the shipped model, built from the seed data if needed
    prediction = model.predict("klima calismiyor", touchpoint_kind="room")
    prediction.category.label, prediction.urgency.confidence, prediction.intent.why
"""
from classifier.evaluation import evaluate
from classifier.labels import DEFAULT_LABELS, HEADS, TOUCHPOINT_KINDS
from classifier.model import MODEL_FORMAT, Classifier
from classifier.prediction import HeadResult, Prediction
from classifier.store import default_model_path, load_or_build, train_seed_model
from classifier.text import detect_language, normalise

__all__ = [
    "Classifier", "DEFAULT_LABELS", "HEADS", "HeadResult", "MODEL_FORMAT", "Prediction",
    "TOUCHPOINT_KINDS", "default_model_path", "detect_language", "evaluate", "load_or_build",
    "normalise", "train_seed_model",
]
