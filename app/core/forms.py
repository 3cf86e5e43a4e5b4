"""The base of every Kulak form: WTForms' own messages in the request's language, loaded once."""
from functools import lru_cache

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@lru_cache(maxsize=8)
def _wtforms_catalog(locale):
    return Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """A FlaskForm whose built-in messages ("Not a valid choice") follow the locale."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            # Flask-WTF would parse WTForms' catalog again on every request.
            return _wtforms_catalog(str(get_locale()))
