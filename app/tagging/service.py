"""Classify a customer's message and let the conversation's tags follow its messages.

The model is the `classifier` package's; this module only supplies the context it reads (the
touchpoint, the category the customer picked, the survey answers) and decides how a message's
prediction changes the conversation:
- sentiment is how the customer feels now: the newest readable message's;
- urgency, once raised, stays until staff lower it; a later urgent message raises it again;
- category and intent change when a message states them more confidently than before;
- a tag staff set by hand is theirs: the model no longer changes it (urgency can still rise).
"""
import threading

from classifier import Classifier, load_or_build
from models import TaggerVersion, db

_LOCK = threading.Lock()
_SHIPPED = {}
_BRAND_MODELS = {}  # brand id -> (TaggerVersion id, model): each brand's current one only
STAFF = "staff"


def shipped_model():
    """Return the shipped classifier, loaded (or built from its seed data) once per process.

    It is kept in MODEL_DIR (the instance folder's models/): the package may be read-only.
    """
    from flask import current_app
    with _LOCK:
        if "model" not in _SHIPPED:
            _SHIPPED["model"] = load_or_build(directory=current_app.config["MODEL_DIR"])
        return _SHIPPED["model"]


def model_for(brand):
    """Return the brand's current model: its own retrained version, else the shipped one."""
    version_id = brand.tagger_version_id
    if version_id is None:
        return shipped_model()
    with _LOCK:
        cached_id, model = _BRAND_MODELS.get(brand.id, (None, None))
    if cached_id == version_id:
        return model
    data = db.session.scalar(db.select(TaggerVersion.model).filter_by(
        id=version_id, brand_id=brand.id))
    model = Classifier.from_bytes(data) if data else shipped_model()
    with _LOCK:
        _BRAND_MODELS[brand.id] = (version_id, model)
    return model


def survey_context(survey_response):
    """Return survey answers as the classifier reads them: {question: {kind, value}}."""
    if survey_response is None:
        return None
    return {answer.question.field_name: {
        "kind": answer.question.kind,
        "value": answer.number if answer.number is not None else answer.text}
        for answer in survey_response.answers}


def classify(conversation, text, survey=None, explain=True):
    """Return the prediction for one customer message of `conversation`."""
    touchpoint = conversation.touchpoint
    return model_for(conversation.brand).predict(
        text, survey=survey,
        picked_category=conversation.picked_category,
        touchpoint_kind=touchpoint.kind if touchpoint is not None else None, explain=explain)


def tags_for(conversation, text, survey_response=None):
    """Return {field: detail} for the tags this message changes (empty when none do)."""
    survey = survey_context(survey_response)
    if not followed_tags(conversation, classify(conversation, text, survey, explain=False)):
        return {}
    # Most messages change no tag; only those that do pay for finding the terms behind it.
    return followed_tags(conversation, classify(conversation, text, survey))


def _detail(result):
    return {"label": result.label, "confidence": round(result.confidence, 3),
            "why": list(result.why[:4])}


def followed_tags(conversation, prediction):
    """Return {field: detail} for the tags this prediction changes (empty: none change)."""
    current = conversation.tag_details or {}
    changes = {}
    if prediction.fallback is not None:
        return changes  # nothing readable: emoji, digits, another language
    for field in ("category", "sentiment", "urgency", "intent"):
        result, held = prediction.heads[field], current.get(field) or {}
        if held.get("label") == result.label:
            continue
        if field == "urgency":
            changes_it = result.label == "urgent" or not held
        elif held.get("by") == STAFF:
            changes_it = False
        elif field == "sentiment":
            changes_it = True
        else:
            changes_it = (not held or result.confidence > held.get("confidence", 0)) and not (
                field == "category" and result.label == "other" and held)
        if changes_it:
            changes[field] = _detail(result)
    return changes
