"""Command line: python -m classifier train | predict | evaluate (JSON out)."""
import argparse
import json
import sys
from pathlib import Path

from classifier.data import deduplicate, read_rows, seed_paths
from classifier.evaluation import evaluate
from classifier.model import Classifier
from classifier.store import (
    default_model_path,
    load_or_build,
    remove_stale_models,
    train_seed_model,
)

MAX_LINE_BYTES = 1_000_000  # longer lines are refused; the text itself is cut far shorter


def _write(payload):
    line = json.dumps(payload, ensure_ascii=False) + "\n"
    # A JSON "\ud800" escape decodes to a lone surrogate; replace it rather than crash.
    sys.stdout.buffer.write(line.encode("utf-8", errors="replace"))
    sys.stdout.buffer.flush()


def _parse_line(raw):
    """Return (request dict, None) or (None, error message) for one input line."""
    if len(raw) > MAX_LINE_BYTES:
        return None, f"line longer than {MAX_LINE_BYTES} bytes"
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"invalid UTF-8 at byte {error.start}"
    if not line.strip():
        return None, "empty line: expected a JSON object"
    try:
        request = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        return None, f"invalid JSON: {getattr(error, 'msg', 'nested too deeply')}"
    if not isinstance(request, dict):
        return None, "expected a JSON object"
    if not isinstance(request.get("text"), str):
        return None, '"text" must be a string'
    if not isinstance(request.get("survey"), dict | None):
        return None, '"survey" must be an object'
    picked = request.get("category", request.get("picked_category"))
    for name, value in (("category", picked), ("touchpoint_kind", request.get("touchpoint_kind"))):
        if not isinstance(value, str | None):
            return None, f'"{name}" must be a string'
    return request, None


def predict_command(args):
    """Read JSON lines from stdin, write one JSON line per input line to stdout."""
    classifier = load_or_build(args.model)
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        request, error = _parse_line(raw.rstrip(b"\r\n"))
        if error:
            _write({"error": error, "line": number})
            continue
        try:
            prediction = classifier.predict(
                request["text"], survey=request.get("survey"),
                picked_category=request.get("category", request.get("picked_category")),
                touchpoint_kind=request.get("touchpoint_kind"), explain=not args.no_why)
        except Exception as error:  # one bad input must not end the batch
            _write({"error": f"could not classify: {type(error).__name__}", "line": number})
            continue
        result = prediction.to_dict(probabilities=args.probabilities)
        if "id" in request:
            result = {"id": request["id"], **result}
        _write(result)
    return 0


def train_command(args):
    """Train on the given CSV files (default: the seed data) and save the model."""
    paths = args.data or seed_paths()
    if args.data or args.seed:
        classifier = Classifier.train(deduplicate(read_rows(paths)), seed=args.seed)
    else:
        classifier = train_seed_model()  # the shipped model, as predict would build it
    path = classifier.save(args.out or default_model_path())
    if not args.out:
        remove_stale_models(path)
    _write({"model": str(path), "data": [str(p) for p in paths], **classifier.metadata})
    return 0


def evaluate_command(args):
    """Score the model on labelled CSV files; print accuracy, macro-F1, confusion per head."""
    classifier = load_or_build(args.model)
    report = evaluate(classifier, read_rows(args.data))
    report["data"] = [str(p) for p in args.data]
    _write(report)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m classifier",
        description="Kulak's message classifier: category, sentiment, urgency, intent.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and save it")
    train.add_argument("--data", nargs="+", type=Path,
                       help="CSV files with text,category,sentiment,urgency,intent[,context] "
                            "(default: the seed data)")
    train.add_argument("--out", type=Path, help="where to save (default: the shipped model path)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.set_defaults(handler=train_command)

    predict = commands.add_parser(
        "predict", help='JSON lines {"text": ..., "survey": {...}, "category": ..., '
                        '"touchpoint_kind": ...} on stdin, one JSON line each on stdout')
    predict.add_argument("--model", type=Path,
                         help="model file (default: the shipped model, built if missing)")
    predict.add_argument("--probabilities", action="store_true",
                         help="also print every label's probability")
    predict.add_argument("--no-why", action="store_true", help="skip the why terms (faster)")
    predict.set_defaults(handler=predict_command)

    evaluate_parser = commands.add_parser("evaluate", help="score a model on labelled CSV")
    evaluate_parser.add_argument("--data", nargs="+", type=Path, required=True)
    evaluate_parser.add_argument("--model", type=Path,
                                 help="model file (default: the shipped model, built if missing)")
    evaluate_parser.set_defaults(handler=evaluate_command)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    for path in getattr(args, "data", None) or ():
        if not Path(path).is_file():
            print(f"error: no such file: {path}", file=sys.stderr)
            return 1
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
