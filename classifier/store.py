"""Where the shipped model lives on this machine, and building it from the seed data if absent."""
import os
from pathlib import Path

from classifier.data import deduplicate, fingerprint, seed_paths, seed_rows
from classifier.model import MODEL_FORMAT, Classifier

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_BUILD_DIR = PACKAGE_DIR / "build"
# The modules whose code shapes a trained model: a change to any of them builds a new one.
MODEL_SOURCES = ("text.py", "lexicon.py", "features.py", "training.py", "model.py", "labels.py")
USER_CACHE_DIR = Path.home() / ".cache" / "kulak" / "classifier"


def default_model_path(directory=None):
    """Return the shipped model's path: in `directory` if given (created if missing), else in
    classifier/build/ if writable, else in the user cache.

    The file name carries the format and a hash of the seed data and of the code that shapes
    the model, so editing either builds a new model instead of loading a stale one.
    """
    name = f"model-v{MODEL_FORMAT}-{shipped_fingerprint()}.joblib"
    if directory is not None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / name
    for directory in (PACKAGE_BUILD_DIR, USER_CACHE_DIR):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK) or (directory / name).exists():
            return directory / name
    return USER_CACHE_DIR / name


def shipped_fingerprint():
    """Return the hash of the seed data and model code the shipped model is built from."""
    return fingerprint([*seed_paths(), *(PACKAGE_DIR / name for name in MODEL_SOURCES)])


def train_seed_model():
    """Train the shipped model on the seed data (deterministic: same data, same model)."""
    classifier = Classifier.train(deduplicate(seed_rows()))
    classifier.metadata["fingerprint"] = shipped_fingerprint()
    return classifier


def load_or_build(path=None, directory=None):
    """Load the model at `path` (default: the shipped model), building it from seed if missing.

    The shipped model is kept in `directory` when given (an application's own folder), else
    where default_model_path() says. A shipped-model file that does not load is rebuilt, and
    older builds beside it are removed; a file the caller named is never overwritten, its load
    error is raised.
    """
    named = path is not None
    if named and directory is not None:
        raise ValueError("give the model's path or the directory of the shipped model, not both")
    path = Path(path) if named else default_model_path(directory)
    if path.exists():
        try:
            return Classifier.load(path)
        except (ValueError, EOFError, OSError, AttributeError, ImportError):
            if named:
                raise
    classifier = train_seed_model()
    classifier.save(path)
    if not named:
        remove_stale_models(path)
    return classifier


def remove_stale_models(current):
    """Delete default-model files of other fingerprints next to `current` (old builds)."""
    for old in Path(current).parent.glob("model-v*-*.joblib"):
        if old != Path(current):
            old.unlink(missing_ok=True)
