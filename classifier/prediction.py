"""What predict() returns: a label, a confidence and the terms behind it, for each head."""
from dataclasses import dataclass, field

from classifier.labels import HEADS


@dataclass(frozen=True)
class HeadResult:
    """One head's answer: the label, its probability, the terms that drove it, all probabilities."""

    label: str
    confidence: float
    why: tuple[str, ...] = ()
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Prediction:
    """The four heads' answers for one message, its language, and why a fallback was used."""

    heads: dict[str, HeadResult]
    language: str
    # None when the model read the text; otherwise "empty", "no_words" or "unsupported_language".
    fallback: str | None = None

    @property
    def category(self):
        return self.heads.get("category")

    @property
    def sentiment(self):
        return self.heads.get("sentiment")

    @property
    def urgency(self):
        return self.heads.get("urgency")

    @property
    def intent(self):
        return self.heads.get("intent")

    def to_dict(self, probabilities=False):
        """Return a JSON-ready dict: a label per head, then confidence and why per head."""
        names = [name for name in HEADS if name in self.heads]
        names += [name for name in self.heads if name not in HEADS]
        out = {name: self.heads[name].label for name in names}
        out["confidence"] = {name: round(self.heads[name].confidence, 4) for name in names}
        out["why"] = {name: list(self.heads[name].why) for name in names}
        if probabilities:
            out["probabilities"] = {
                name: {label: round(p, 4) for label, p in self.heads[name].probabilities.items()}
                for name in names}
        out["language"] = self.language
        out["fallback"] = self.fallback
        return out
