"""The four-head classifier: training, calibrated prediction with "why" terms, save and load."""
import io
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn

from classifier import training
from classifier.context import apply_priors
from classifier.explain import context_supports, why_terms
from classifier.features import FeatureSpace
from classifier.labels import FALLBACK_LABELS, HEADS, TOUCHPOINT_KINDS
from classifier.prediction import HeadResult, Prediction
from classifier.text import (
    EMOJI_NEGATIVE,
    EMOJI_POSITIVE,
    content_words,
    detect_language,
    normalise,
    strip_invisible,
    surface_map,
)

MODEL_FORMAT = 1  # bump when the saved layout changes; older files are then rebuilt


@dataclass
class Head:
    """One fitted head: its labels, its columns in the stacked weights, its calibration."""

    name: str
    labels: tuple[str, ...]
    start: int
    temperature: float = 1.0
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def stop(self):
        return self.start + len(self.labels)

    @property
    def fallback(self):
        wanted = FALLBACK_LABELS.get(self.name)
        return wanted if wanted in self.labels else self.labels[0]


def _touchpoint(kind):
    return kind if kind in TOUCHPOINT_KINDS else None


class Classifier:
    """Category, sentiment, urgency and intent for one customer message, with reasons."""

    def __init__(self, features, heads, weights, bias, metadata):
        self.features = features
        self.heads = heads
        self.weights = weights  # n_features × (labels of all heads), float32
        self.bias = bias
        self.metadata = metadata

    # Training ---------------------------------------------------------------------------

    @classmethod
    def train(cls, rows, *, seed=0, C=None, calibrate=True, block_weights=None):
        """Train on dict rows with "text", any of the head labels, and optional "context"."""
        rows = [row for row in rows if str(row.get("text") or "").strip()]
        if not rows:
            raise ValueError("no rows with text to train on")
        normalised = [normalise(row["text"]) for row in rows]
        kinds = [_touchpoint(row.get("context") or row.get("touchpoint_kind")) for row in rows]
        features = FeatureSpace.fit(normalised, weights=block_weights)
        X = features.matrix(normalised, kinds)
        C = {**training.DEFAULT_C, **(C or {})}
        heads, coefs, intercepts, evaluation = [], [], [], {}
        start = 0
        for name in HEADS:
            chosen = [i for i, row in enumerate(rows) if str(row.get(name) or "").strip()]
            y = np.array([str(rows[i][name]).strip() for i in chosen])
            if len(set(y.tolist())) < 2:
                continue
            c = C.get(name, training.FALLBACK_C)
            labels, coef, intercept = training.fit_linear(X[chosen], y, c, seed)
            head = Head(name, labels, start)
            evaluation[name] = cls._calibrate(head, X[chosen], y, c, seed) if calibrate else {}
            evaluation[name]["examples"] = len(chosen)
            heads.append(head)
            coefs.append(coef)
            intercepts.append(intercept)
            start = head.stop
        if not heads:
            raise ValueError("no head has two or more labels to learn")
        metadata = {
            "format": MODEL_FORMAT,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "examples": len(rows),
            "languages": dict(Counter(row["lang"] for row in rows if row.get("lang"))),
            "features": features.n_features,
            "seed": seed,
            "C": {head.name: C.get(head.name, training.FALLBACK_C) for head in heads},
            "scikit_learn": sklearn.__version__,
            # Out-of-fold scores: each example is scored by a model that did not see it.
            "evaluation": evaluation,
        }
        weights = np.hstack(coefs).astype(np.float32)
        return cls(features, heads, weights, np.concatenate(intercepts).astype(np.float32),
                   metadata)

    @staticmethod
    def _calibrate(head, X, y, C, seed):
        """Set the head's temperature (and urgent threshold); return out-of-fold scores."""
        logits = training.out_of_fold_logits(X, y, head.labels, C, seed)
        if logits is None:
            return {}
        y_index = np.array([head.labels.index(label) for label in y])
        head.temperature = training.fit_temperature(logits, y_index)
        probabilities = training.softmax_rows(logits / head.temperature)
        if head.name == "urgency" and "urgent" in head.labels:
            column = head.labels.index("urgent")
            head.thresholds = {"urgent": training.urgent_threshold(probabilities, y_index,
                                                                   column)}
        predicted = [head.labels[training.decide(p, head.labels, head.thresholds)]
                     for p in probabilities]
        result = training.scores(y, predicted)
        result["temperature"] = round(head.temperature, 4)
        result.update({f"threshold_{k}": round(v, 4) for k, v in head.thresholds.items()})
        return result

    # Prediction -------------------------------------------------------------------------

    def predict(self, text, survey=None, picked_category=None, touchpoint_kind=None,
                explain=True):
        """Classify one message; never raises on odd text, returns a defined answer instead."""
        raw = strip_invisible(text)
        normalised = normalise(raw)
        language = detect_language(raw, normalised)
        if not content_words(normalised):
            fallback = "no_words" if normalised else "empty"
            return self._fallback(fallback, language, normalised, raw, survey, picked_category)
        if language == "other":
            return self._fallback("unsupported_language", language, normalised, raw, survey,
                                  picked_category)
        kind = _touchpoint(touchpoint_kind)
        columns, values, cues = self.features.vector(normalised, kind)
        rows = self.weights[columns]
        scores = values @ rows + self.bias if len(columns) else self.bias
        decided = []
        for head in self.heads:
            logits = (scores[head.start:head.stop] / head.temperature).tolist()
            context_why = apply_priors(head.name, head.labels, logits, survey, picked_category)
            probabilities = training.softmax(logits)
            chosen = training.decide(probabilities, head.labels, head.thresholds)
            decided.append((head, chosen, probabilities, context_why))
        why = why_terms(self.features, decided, rows, columns, values,
                        (normalised.split(), cues, kind, surface_map(raw))) if explain else {}
        results = {}
        for head, chosen, probabilities, context_why in decided:
            terms = why.get(head.name, ()) + tuple(
                term for term in context_why if context_supports(term, head.labels[chosen]))
            results[head.name] = HeadResult(
                head.labels[chosen], float(probabilities[chosen]), terms if explain else (),
                dict(zip(head.labels, map(float, probabilities), strict=True)))
        return Prediction(results, language)

    def predict_many(self, items, explain=True):
        """Classify many messages: each a str or a dict like the CLI's input lines."""
        predictions = []
        for item in items:
            if isinstance(item, dict):
                predictions.append(self.predict(
                    item.get("text"), survey=item.get("survey"),
                    picked_category=item.get("picked_category", item.get("category")),
                    touchpoint_kind=item.get("touchpoint_kind", item.get("context")),
                    explain=explain))
            else:
                predictions.append(self.predict(item, explain=explain))
        return predictions

    def _fallback(self, reason, language, normalised, raw, survey, picked_category):
        """Return the defined answer for text the model cannot read."""
        tokens = normalised.split()
        positive, negative = tokens.count(EMOJI_POSITIVE), tokens.count(EMOJI_NEGATIVE)
        mood = (positive - negative) / (positive + negative) if positive + negative else 0.0
        emoji_shift = {"positive": 1.5 * mood, "negative": -1.5 * mood,
                       "praise": 1.5 * max(mood, 0.0), "complaint": 1.5 * max(-mood, 0.0)}
        results = {}
        for head in self.heads:
            # The defined label wins ties; emoji and the context can still move the answer.
            logits = [0.01 if label == head.fallback else 0.0 for label in head.labels]
            if head.name in ("sentiment", "intent"):
                logits = [v + emoji_shift.get(label, 0.0)
                          for v, label in zip(logits, head.labels, strict=True)]
            context_why = apply_priors(head.name, head.labels, logits, survey, picked_category)
            probabilities = training.softmax(logits)
            chosen = int(np.argmax(probabilities))
            why = tuple(term for term in context_why
                        if context_supports(term, head.labels[chosen]))
            if mood and head.name in ("sentiment", "intent") and head.labels[chosen] != \
                    head.fallback:
                why = (raw.strip()[:20], *why)
            results[head.name] = HeadResult(
                head.labels[chosen], float(probabilities[chosen]), why,
                dict(zip(head.labels, map(float, probabilities), strict=True)))
        return Prediction(results, language, reason)

    # Persistence ------------------------------------------------------------------------

    def save(self, path):
        """Write the model to `path` atomically (a temporary file renamed into place)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(handle)
        try:
            joblib.dump({"format": MODEL_FORMAT, "classifier": self}, temporary, compress=3)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; a model holds no secrets
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path):
        """Load a model saved by save(); raise ValueError if it is another format.

        joblib files are pickles: load only files this project wrote.
        """
        return cls._unpack(joblib.load(path), path)

    def to_bytes(self):
        """Return the model as bytes (what save() writes), e.g. to keep it in a database."""
        buffer = io.BytesIO()
        joblib.dump({"format": MODEL_FORMAT, "classifier": self}, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data):
        """Load a model from to_bytes()'s output; the same trust rule as load() applies."""
        return cls._unpack(joblib.load(io.BytesIO(data)), "bytes")

    @classmethod
    def _unpack(cls, payload, origin):
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            found = payload.get("format") if isinstance(payload, dict) else type(payload)
            raise ValueError(f"model format {found!r} at {origin}, expected {MODEL_FORMAT}")
        return payload["classifier"]
