"""Context besides the text: survey answers and the category the customer picked, as priors.

The seed data has no survey answers or picked categories, so their weight cannot be learnt from
it; they are applied as explicit, documented shifts of the heads' log-odds after calibration.
A prior moves a close call and leaves a clear text alone: "the AC is broken" under the picked
category "billing_payment" still comes out as facilities.
"""
import math

# The picked category gets PICKED_SHARE of the prior mass, the rest share the remainder: with
# nine categories that multiplies the picked category's odds by 12.
PICKED_SHARE = 0.6
# Log-odds added to negative (and taken from positive) sentiment per unit of survey polarity,
# so a 1/5 rating (polarity -1) multiplies the odds of "negative" by e^1.6 ≈ 5.
SURVEY_WEIGHT = 1.6
_YES = {"yes", "y", "true", "evet", "e", "1"}
_NO = {"no", "n", "false", "hayir", "hayır", "h", "0"}


def _answer_polarity(key, value):
    """Return one answer's polarity in [-1, 1], or None when it says nothing about mood."""
    kind = None
    if isinstance(value, dict):
        kind = str(value.get("kind") or "").lower() or None
        value = value.get("value", value.get("number"))
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _YES or text in _NO:
            value = text in _YES
        else:
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                return None
    if kind == "yes_no" and isinstance(value, int | float) and not isinstance(value, bool):
        value = bool(value)
    if isinstance(value, bool):
        return 0.5 if value else -1.0  # a "no" to "was it clean?" says more than a "yes"
    if not isinstance(value, int | float) or math.isnan(value):
        return None
    if kind == "nps" or "nps" in str(key).lower() or value > 5:
        return max(-1.0, min(1.0, (value - 7.0) / 3.0))  # 0-10: 7 neutral, 10 +1, 4 and below -1
    return max(-1.0, min(1.0, (value - 3.0) / 2.0))  # 1-5 rating: 1 → -1, 3 → 0, 5 → +1


def survey_polarity(survey):
    """Return the mean polarity of a survey's answers in [-1, 1], or None if none carries one."""
    if not isinstance(survey, dict):
        return None
    scores = [p for key, value in survey.items()
              if (p := _answer_polarity(key, value)) is not None]
    return sum(scores) / len(scores) if scores else None


def apply_priors(head, labels, logits, survey=None, picked_category=None):
    """Shift one head's logits (a list, changed in place) by the context; return why terms."""
    why = []
    if head == "category" and picked_category in labels and len(labels) > 1:
        boost = math.log(PICKED_SHARE * (len(labels) - 1) / (1.0 - PICKED_SHARE))
        logits[labels.index(picked_category)] += boost
        why.append(f"picked:{picked_category}")
    if head == "sentiment":
        polarity = survey_polarity(survey)
        if polarity:
            if "negative" in labels:
                logits[labels.index("negative")] -= SURVEY_WEIGHT * polarity
            if "positive" in labels:
                logits[labels.index("positive")] += SURVEY_WEIGHT * polarity
            why.append(f"survey:{polarity:+.2f}")
    return why
