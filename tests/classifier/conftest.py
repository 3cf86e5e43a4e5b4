"""Fixtures: the seed model trained once per session, and a saved copy for the CLI tests."""
import pytest

from classifier import Classifier
from classifier.data import deduplicate, seed_rows


@pytest.fixture(scope="session")
def seed_model():
    """Return the shipped pipeline trained on the seed data (about five seconds, once)."""
    return Classifier.train(deduplicate(seed_rows()))


@pytest.fixture(scope="session")
def saved_model(seed_model, tmp_path_factory):
    """Return the path of the seed model saved to a temporary directory."""
    return seed_model.save(tmp_path_factory.mktemp("model") / "model.joblib")
