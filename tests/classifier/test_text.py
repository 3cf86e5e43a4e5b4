"""Normalisation, language detection and the analyzers the features are built from."""
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.features import FeatureSpace
from classifier.text import (
    MAX_CHARS,
    char_ngrams,
    detect_language,
    fold,
    normalise,
    squeeze,
    strip_invisible,
    surface_map,
    turkish_lower,
    word_ngrams,
)


def test_turkish_lower_maps_dotted_and_dotless_capital_i():
    assert turkish_lower("İSTANBUL") == "istanbul"
    assert turkish_lower("IRMAK ILIK") == "ırmak ılık"
    assert turkish_lower("ÇİĞ ŞÖĞÜŞ") == "çiğ şöğüş"


def test_folding_makes_typed_without_diacritics_equal():
    assert fold("çğıöşü ÇĞÖŞÜ") == "cgiosu cgosu"
    assert normalise("oda çok kirli") == normalise("oda cok kirli") == "oda cok kirli"
    assert normalise("ODA ÇOK KİRLİ") == "oda cok kirli"
    assert normalise("KLİMA ÇALIŞMIYOR") == normalise("klima calismiyor")
    assert normalise("café naïve") == "cafe naive"


def test_repeated_letters_are_squeezed_but_double_letters_kept():
    assert normalise("cooook") == "cok"
    assert squeeze("harikaaaaa") == "harika"
    assert normalise("good coffee, saat") == "good coffee saat"


def test_spoken_turkish_and_informal_spellings():
    assert normalise("klima calismiyo") == "klima calismiyor"
    assert normalise("bekliyoz") == "bekliyoruz"
    assert normalise("slm pls thx") == "selam please thanks"
    assert normalise("Wi-Fi yok") == normalise("wifi yok") == "wifi yok"


def test_numbers_emoji_and_marks_become_tokens():
    assert normalise("40 dakikadır bekliyoruz!!!") == "num dakikadir bekliyoruz excl"
    assert normalise("oda 412?") == "oda num qmark"
    assert normalise("super 😍 :)") == "super emopos emopos"
    assert normalise("berbat 😡 :(") == "berbat emoneg emoneg"


def test_control_and_invisible_characters_are_removed():
    assert normalise("oda\x00 kirli\u200b\u202e\ufeff") == "oda kirli"
    assert normalise("\x00\x01\x7f") == ""
    assert len(strip_invisible("x" * 100_000)) == MAX_CHARS


def test_surface_map_points_back_to_what_was_typed():
    mapping = surface_map("Klima ÇALIŞMIYO!! 40 dk 😡")
    assert mapping["calismiyor"] == "ÇALIŞMIYO"
    assert mapping["num"] == "40"
    assert mapping["emoneg"] == "😡"


@pytest.mark.parametrize(("text", "language"), [
    ("oda çok kirli", "tr"),
    ("klima calismiyor yardim edin", "tr"),
    ("40 dakikadır bekliyoruz hala gelmedi", "tr"),
    ("the room is dirty and nobody came", "en"),
    ("there's water leaking from the ceiling", "en"),
    ("Das Zimmer ist sehr schmutzig und kein Wasser", "other"),
    ("La habitación está muy sucia y no hay agua", "other"),
    ("Комната очень грязная", "other"),
    ("12345 !!!", "unknown"),
    ("", "unknown"),
])
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_char_ngrams_match_scikit_learn_char_wb():
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for text in ("oda cok kirli", "a ab abc abcd abcde abcdefgh", "x"):
        assert char_ngrams(text) == analyzer(text)


def test_feature_vectors_match_scikit_learn_tfidf():
    texts = [normalise(t) for t in ("oda cok kirli", "the room is dirty", "oda temiz",
                                    "cok guzel oda", "room is clean and the bed is comfy")]
    space = FeatureSpace.fit(texts, min_char_df=1,
                             weights={"word": 1.0, "char": 1.0, "cue": 0.0, "touchpoint": 0.0})
    words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, lowercase=False).fit(texts)
    chars = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, lowercase=False).fit(texts)
    for text in texts + [normalise("the oda is kirli cok cok")]:
        expected = np.concatenate([words.transform([text]).toarray()[0],
                                   chars.transform([text]).toarray()[0]])
        dense = np.zeros(space.n_features)
        columns, values, _ = space.vector(text)
        dense[columns] = values
        assert np.allclose(dense[:len(expected)], expected, atol=1e-6)
