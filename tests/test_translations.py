"""The Turkish catalog is complete, compiled, in step with the sources, and used by the app."""
import gettext
import io
import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app import create_app

REPO = Path(__file__).resolve().parent.parent
BABEL_CFG = REPO / "babel.cfg"
TRANSLATIONS = REPO / "app" / "translations"
PO = TRANSLATIONS / "tr" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "tr" / "LC_MESSAGES" / "messages.mo"
# The same keywords as `pybabel extract -F babel.cfg -k _l -k lazy_gettext`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# %(name)d, %s, %% ... and {name}: what formatting fills in or chokes on.
PERCENT = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"\{\w+\}")


def read_catalog():
    with PO.open("rb") as f:
        return read_po(f)


def messages(catalog):
    """Every real message (not the header) in the catalog."""
    return [m for m in catalog if m.id]


def texts(value):
    """A message id or string as a tuple: plural forms are tuples already."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def placeholders(text):
    """The formatting placeholders in `text`, and how many stray % signs are left over."""
    return set(PERCENT.findall(text)), set(BRACE.findall(text)), PERCENT.sub("", text).count("%")


def test_every_message_is_translated():
    catalog = read_catalog()
    assert catalog.locale.language == "tr"
    assert messages(catalog), "the catalog holds no messages"
    untranslated = [m.id for m in messages(catalog)
                    if not all(s and s.strip() for s in texts(m.string))]
    assert not untranslated, f"untranslated in {PO.name}: {untranslated}"


def test_no_fuzzy_entries():
    catalog = read_catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    fuzzy = [m.id for m in messages(catalog) if m.fuzzy]
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"


def test_placeholders_match():
    mismatched = []
    for message in messages(read_catalog()):
        expected = placeholders(texts(message.id)[0])
        for string in texts(message.string):
            if placeholders(string) != expected:
                mismatched.append((message.id, string))
    assert not mismatched, f"placeholders differ between msgid and msgstr: {mismatched}"


def gnu_catalog(data):
    return gettext.GNUTranslations(io.BytesIO(data))


def test_committed_mo_is_up_to_date():
    assert MO.exists(), "run: pybabel compile -d app/translations"
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog())
    fresh = gnu_catalog(compiled.getvalue())
    committed = gnu_catalog(MO.read_bytes())
    # The header ("" key) names the Babel version that compiled it; compare what matters.
    fresh_entries = {k: v for k, v in fresh._catalog.items() if k != ""}
    committed_entries = {k: v for k, v in committed._catalog.items() if k != ""}
    assert committed_entries.keys() == fresh_entries.keys(), \
        "messages.mo is stale: run pybabel compile -d app/translations"
    stale = {k: (committed_entries[k], v) for k, v in fresh_entries.items()
             if committed_entries[k] != v}
    assert not stale, f"messages.mo is stale, run pybabel compile -d app/translations: {stale}"
    for header in ("language", "plural-forms", "content-type"):
        assert committed.info().get(header) == fresh.info().get(header), header


def extracted_messages():
    """(msgid, context) -> first source location, extracted as babel.cfg says."""
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            REPO, method_map, options_map, keywords=KEYWORDS):
        msgid = texts(message)[0]
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def test_every_source_string_is_in_the_catalog():
    found = extracted_messages()
    assert any(where.startswith("widget_templates/") for where in found.values()), \
        "babel.cfg extracted nothing from the templates"
    catalog = read_catalog()
    missing = sorted(f"{where}: {msgid!r}" for (msgid, context), where in found.items()
                     if catalog.get(msgid, context) is None)
    assert not missing, (
        "strings in the sources are missing from the Turkish catalog; run pybabel extract "
        "and pybabel update (see babel.cfg), then translate them:\n" + "\n".join(missing))


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                      environ={"KULAK_INSTANCE": str(tmp_path)})


def translated_in(app, path="/", **headers):
    with app.test_request_context(path, headers=headers):
        return str(flask_babel.get_locale()), flask_babel.gettext("How can we help?")


def test_turkish_browser_gets_turkish(app):
    turkish = read_catalog().get("How can we help?").string
    assert translated_in(app, **{"Accept-Language": "tr-TR,tr;q=0.9"}) == ("tr", turkish)
    assert turkish == "Size nasıl yardımcı olabiliriz?"


def test_english_browser_gets_english(app):
    assert translated_in(app, **{"Accept-Language": "en"}) == ("en", "How can we help?")


def test_lang_parameter_wins_over_browser(app):
    turkish = read_catalog().get("How can we help?").string
    assert translated_in(app, "/?lang=tr", **{"Accept-Language": "en"}) == ("tr", turkish)
    assert translated_in(app, "/?lang=en", **{"Accept-Language": "tr-TR,tr;q=0.9"}) == (
        "en", "How can we help?")


def test_lazy_strings_follow_each_request(app):
    # Form labels are lazy: built once at import, translated whenever they are shown.
    label = flask_babel.lazy_gettext("Your name")
    with app.test_request_context(headers={"Accept-Language": "tr"}):
        assert str(label) == read_catalog().get("Your name").string
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(label) == "Your name"


def test_no_lazy_message_is_filled_with_values():
    """Flask-Babel's lazy strings are markup to Jinja and WTForms (they have __html__): one
    filled with a name someone typed would be shown as HTML. Filled messages use gettext."""
    import ast
    filled = []
    for path in sorted((REPO / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("_l", "lazy_gettext") and node.keywords):
                filled.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not filled, f"lazy messages filled with values: {filled}"
