"""Fitting one head: logistic regression, out-of-fold calibration, and the urgent threshold."""
import math
import warnings

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

DEFAULT_C = {"category": 10.0, "sentiment": 4.0, "urgency": 4.0, "intent": 6.0}
FALLBACK_C = 4.0
# Five folds for the seed-sized data; beyond LARGE_DATA rows two folds already give thousands
# of out-of-fold predictions to calibrate on, and keep training on 10,000 rows well under 30 s.
CALIBRATION_FOLDS = 5
LARGE_DATA = 5000
# Urgency is the head whose misses cost most (DESIGN.md: "urgency above all"): the urgent label
# is given when its calibrated probability reaches a threshold chosen on out-of-fold predictions
# so that at least this share of urgent training messages would have been caught.
URGENT_TARGET_RECALL = 0.92
URGENT_THRESHOLD_RANGE = (0.2, 0.5)


def fit_linear(X, y, C, seed, tol=1e-5):
    """Fit a logistic regression; return (labels, coef as features×labels, intercept)."""
    # newton-cg converges in a handful of iterations here, ten times faster than lbfgs.
    model = LogisticRegression(C=C, class_weight="balanced", solver="newton-cg", tol=tol,
                               max_iter=500, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    labels = tuple(str(label) for label in model.classes_)
    coef = model.coef_.astype(np.float64)
    intercept = model.intercept_.astype(np.float64)
    if len(labels) == 2:
        # Binary logistic regression scores only the second class; spread the score over two
        # columns so every head is a softmax over one column per label.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return labels, coef.T, intercept


def out_of_fold_logits(X, y, labels, C, seed):
    """Return the logits each example gets from a model trained without it, or None."""
    counts = np.unique(y, return_counts=True)[1]
    folds = min(CALIBRATION_FOLDS if len(y) <= LARGE_DATA else 2, int(counts.min()))
    if folds < 2:
        return None
    logits = np.zeros((len(y), len(labels)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(np.zeros(len(y)), y):
        fold_labels, coef, intercept = fit_linear(X[train_index], y[train_index], C, seed,
                                                  tol=1e-4)
        fold_logits = X[test_index] @ coef + intercept
        for j, label in enumerate(fold_labels):
            logits[test_index, labels.index(label)] = fold_logits[:, j]
        for label in set(labels) - set(fold_labels):  # a label missing from this fold
            logits[test_index, labels.index(label)] = -1e3
    return logits


def fit_temperature(logits, y_index):
    """Return the temperature that minimises the log-loss of out-of-fold logits."""
    def loss(temperature):
        return -log_softmax(logits / temperature, axis=1)[np.arange(len(y_index)), y_index].mean()

    return float(minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded").x)


def softmax(logits):
    """Return the softmax of a short list of logits as a list (no numpy overhead)."""
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [v / total for v in exps]


def softmax_rows(logits):
    """Return row-wise softmax probabilities."""
    return np.exp(log_softmax(logits, axis=1))


def urgent_threshold(probabilities, y_index, urgent_column):
    """Return the probability from which "urgent" is given, chosen on out-of-fold predictions."""
    low, high = URGENT_THRESHOLD_RANGE
    urgent_scores = np.sort(probabilities[y_index == urgent_column, urgent_column])
    if not len(urgent_scores):
        return high
    # The score below which only (1 - target) of the urgent examples fall.
    cut = urgent_scores[int(np.floor((1.0 - URGENT_TARGET_RECALL) * len(urgent_scores)))]
    return float(min(high, max(low, cut)))


def decide(probabilities, labels, thresholds):
    """Return the index of the chosen label: a threshold label if reached, else the argmax."""
    for label, threshold in thresholds.items():
        column = labels.index(label)
        if probabilities[column] >= threshold:
            return column
    return int(np.argmax(probabilities))


def scores(y_true, y_pred):
    """Return accuracy and macro-F1 as plain floats."""
    return {"accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
            "macro_f1": round(float(f1_score(y_true, y_pred, average="macro",
                                             zero_division=0)), 4)}
