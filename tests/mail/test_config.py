"""KULAK_MAIL_URL: an Apprise mailto:// or mailtos:// URL, refused at start-up otherwise."""
import pytest

from app import create_app

GOOD = "mailtos://kulak:Pw-1234@smtp.example.com:587?from=Kulak<kulak@example.com>"


def build(tmp_path, **environ):
    return create_app({"TESTING": True}, environ={"KULAK_INSTANCE": str(tmp_path), **environ})


def test_unset_means_no_sender(tmp_path):
    assert build(tmp_path).config["MAIL_URL"] is None
    assert build(tmp_path, KULAK_MAIL_URL="  ").config["MAIL_URL"] is None


def test_a_mail_url_is_kept_as_the_operator_wrote_it(tmp_path):
    assert build(tmp_path, KULAK_MAIL_URL=GOOD).config["MAIL_URL"] == GOOD


@pytest.mark.parametrize("url, says", [
    ("json://hooks.example.com/kulak", "not json://"),
    ("smtp://kulak:Pw-1234@smtp.example.com", "not smtp://"),
    ("kulak:Pw-1234@smtp.example.com", "not a URL without a scheme"),
    ("mailtos://kulak:Pw-1234@smtp.example.com?mode=bogus", "The secure mode specified"),
    ("mailto://", "Invalid ~From~ email"),
])
def test_anything_else_is_refused_at_start_with_a_clear_error(tmp_path, url, says):
    with pytest.raises(ValueError) as refused:
        build(tmp_path, KULAK_MAIL_URL=url)
    message = str(refused.value)
    assert message.startswith("KULAK_MAIL_URL ") and says in message
    assert "Pw-1234" not in message  # the password never reaches a log
