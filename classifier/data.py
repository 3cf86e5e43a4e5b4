"""Reading labelled rows: the shipped seed data, the held-out unseen set, any CSV a user gives."""
import csv
import hashlib
from pathlib import Path

from classifier.labels import DEFAULT_LABELS, HEADS, SEED_COLUMNS
from classifier.text import normalise

SEED_DIR = Path(__file__).resolve().parent / "seed"
UNSEEN_FILE = "unseen.csv"  # held out: measures generalisation, never used for training
HELD_OUT_PREFIX = "unseen"  # every unseen*.csv file is held out from training


def seed_paths():
    """Return the seed training CSV files, in a fixed order (the held-out unseen sets excluded)."""
    return sorted(p for p in SEED_DIR.glob("*.csv") if not p.name.startswith(HELD_OUT_PREFIX))


def unseen_path():
    """Return the path of the held-out set of messages unlike the seed phrasings."""
    return SEED_DIR / UNSEEN_FILE


def read_rows(paths):
    """Return the rows of UTF-8 CSV files as dicts with stripped values."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append({key: (value or "").strip() for key, value in row.items() if key})
    return rows


def seed_rows():
    """Return the seed training rows."""
    return read_rows(seed_paths())


def unseen_rows():
    """Return the held-out unseen rows."""
    return read_rows([unseen_path()])


def invalid_rows(rows):
    """Return (row number, reason) for seed-format rows with a missing or unknown value."""
    problems = []
    for number, row in enumerate(rows, start=1):
        missing = [column for column in SEED_COLUMNS if column not in row]
        if missing:
            problems.append((number, f"missing columns {missing}"))
            continue
        if not row["text"]:
            problems.append((number, "empty text"))
        for head in HEADS:
            if row[head] not in DEFAULT_LABELS[head]:
                problems.append((number, f"{head}={row[head]!r}"))
    return problems


def deduplicate(rows):
    """Keep the first row of each normalised text, so "Oda çok kirli" and "oda cok kirli" count once."""
    seen, kept = set(), []
    for row in rows:
        key = normalise(row.get("text"))
        if key and key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def fingerprint(paths):
    """Return a short hash of the files' names and contents (the default model's identity)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]
