"""python -m classifier predict / train / evaluate, run as a user runs them."""
import csv
import json
import subprocess
import sys
from pathlib import Path

from classifier import DEFAULT_LABELS, HEADS, Classifier
from classifier.data import unseen_rows

ROOT = Path(__file__).resolve().parents[2]


def run(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "classifier", *args], input=stdin,
                          capture_output=True, cwd=ROOT, timeout=120, check=False)


def test_predict_answers_every_line_of_a_mixed_batch(saved_model):
    lines = [
        json.dumps({"text": "40 dakikadır bekliyoruz hala gelmedi", "touchpoint_kind": "table"}),
        json.dumps({"text": "the room is fine", "survey": {"rating": 1}, "category": "other"}),
        "{not json",
        b"\xff\xfe{\"text\": \"oda kirli\"}",
        "",
        json.dumps([1, 2, 3]),
        json.dumps({"text": 42}),
        json.dumps({"text": "oda", "survey": "bad"}),
        json.dumps({"text": "", "id": "m-7"}),
        json.dumps({"text": "😡😡", "id": 8}),
        json.dumps({"text": "acil oda kapısı kilitli kaldım"}, ensure_ascii=False),
    ]
    stdin = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    result = run("predict", "--model", str(saved_model), stdin=stdin + b"\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(out) == len(lines)
    errors = [i for i, answer in enumerate(out) if "error" in answer]
    assert errors == [2, 3, 4, 5, 6, 7]
    assert "UTF-8" in out[3]["error"] and out[3]["line"] == 4
    for i, answer in enumerate(out):
        if i in errors:
            continue
        for head in HEADS:
            assert answer[head] in DEFAULT_LABELS[head]
            assert 0.0 <= answer["confidence"][head] <= 1.0
            assert isinstance(answer["why"][head], list)
    assert out[0]["urgency"] == "urgent" and out[10]["urgency"] == "urgent"
    assert out[8]["id"] == "m-7" and out[8]["fallback"] == "empty"
    assert out[9]["sentiment"] == "negative"


def test_predict_builds_the_model_when_missing(tmp_path):
    path = tmp_path / "built" / "model.joblib"
    result = run("predict", "--model", str(path), stdin=b'{"text": "oda cok kirli"}\n')
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["category"] == "cleanliness"
    assert Classifier.load(path).metadata["examples"] > 2000


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_evaluate_prints_figures_per_head(saved_model, tmp_path):
    data = write_csv(tmp_path / "eval.csv", unseen_rows()[:50])
    result = run("evaluate", "--data", str(data), "--model", str(saved_model))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["examples"] == 50
    for head in HEADS:
        assert {"accuracy", "macro_f1", "confusion_matrix", "labels"} <= set(report[head])
        assert len(report[head]["confusion_matrix"]) == len(report[head]["labels"])


def test_train_writes_a_loadable_model(tmp_path):
    data = write_csv(tmp_path / "train.csv", unseen_rows())
    out = tmp_path / "custom.joblib"
    result = run("train", "--data", str(data), "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["model"] == str(out) and summary["examples"] == len(unseen_rows())
    assert Classifier.load(out).predict("oda kirli").category.label in DEFAULT_LABELS["category"]


def test_missing_data_file_is_a_clear_error(tmp_path):
    result = run("evaluate", "--data", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert b"no such file" in result.stderr
