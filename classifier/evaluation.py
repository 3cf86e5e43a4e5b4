"""Scoring a classifier on labelled rows: accuracy, macro-F1, per-label figures, confusion."""
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from classifier.labels import DEFAULT_LABELS, HEADS


def _label_order(head, true, predicted):
    """Return the default taxonomy order for known labels, then any others sorted."""
    present = set(true) | set(predicted)
    known = [label for label in DEFAULT_LABELS.get(head, ()) if label in present]
    return known + sorted(present - set(known))


def score_head(head, true, predicted):
    """Return accuracy, macro-F1, per-label precision/recall/F1 and the confusion matrix."""
    labels = _label_order(head, true, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=labels, zero_division=0)
    # Macro-F1 over the labels that occur in the truth: a label the data never has would
    # otherwise count as a zero just because the model predicted it once.
    truth_labels = [label for label in labels if label in set(true)]
    return {
        "examples": len(true),
        "accuracy": round(float(accuracy_score(true, predicted)), 4),
        "macro_f1": round(float(f1_score(true, predicted, labels=truth_labels, average="macro",
                                         zero_division=0)), 4),
        "labels": labels,
        "per_label": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                    "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)},
        # Rows are the true labels, columns the predicted ones, both in "labels" order.
        "confusion_matrix": confusion_matrix(true, predicted, labels=labels).tolist(),
    }


def evaluate(classifier, rows):
    """Score `classifier` on dict rows (text, head labels, optional context) for every head."""
    rows = [row for row in rows if str(row.get("text") or "").strip()]
    predictions = classifier.predict_many(
        ({"text": row["text"], "touchpoint_kind": row.get("context") or None,
          "survey": row.get("survey"), "picked_category": row.get("picked_category")}
         for row in rows), explain=False)
    report = {"examples": len(rows)}
    for head in HEADS:
        pairs = [(row[head], prediction.heads[head].label)
                 for row, prediction in zip(rows, predictions, strict=True)
                 if row.get(head) and head in prediction.heads]
        if pairs:
            true, predicted = zip(*pairs, strict=True)
            report[head] = score_head(head, list(true), list(predicted))
    return report


def calibration_error(probabilities, true_index, bins=15):
    """Return the expected calibration error of the top label (equal-width confidence bins)."""
    confidence = [max(row) for row in probabilities]
    correct = [int(max(range(len(row)), key=row.__getitem__) == truth)
               for row, truth in zip(probabilities, true_index, strict=True)]
    total, error = len(confidence), 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if low < c <= high or (b == 0 and c == 0)]
        if members:
            gap = (sum(confidence[i] for i in members) - sum(correct[i] for i in members))
            error += abs(gap) / total
    return round(error, 4)
