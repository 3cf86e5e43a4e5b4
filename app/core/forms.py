"""The base of every Kulak form (WTForms' own messages in the request's language, loaded
once), and the forms every staff area shares: a CSRF-only button, choosing a password."""
from functools import lru_cache

from babel.support import Translations
from flask import request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length, ValidationError

PASSWORD_MIN = 10


@lru_cache(maxsize=8)
def _wtforms_catalog(locale):
    return Translations.load(messages_path(), [locale], domain="wtforms")


def posted_text(formdata):
    """Return `formdata` with NUL characters removed: PostgreSQL refuses them in text (a 500),
    and no person types one."""
    if formdata is None:
        return None
    return MultiDict([(key, value.replace("\x00", "") if isinstance(value, str) else value)
                      for key, value in formdata.items(multi=True)])


class Form(FlaskForm):
    """A FlaskForm whose built-in messages ("Not a valid choice") follow the locale, and that
    reads only the posted fields."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            # Flask-WTF would parse WTForms' catalog again on every request.
            return _wtforms_catalog(str(get_locale()))

        def wrap_formdata(self, form, formdata):
            # Flask-WTF would also take uploaded files and a JSON body as the fields' values,
            # which no Kulak form has and whose objects the text validators cannot read.
            if formdata is _Auto:
                formdata = request.form if _is_submitted() and request.form else None
            return posted_text(formdata)


class ActionForm(Form):
    """A button that only carries the CSRF token: assign to me, resolve, delete."""


class SetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Please choose a password.")),
        Length(min=PASSWORD_MIN, max=200, message=_l(
            "Please use between %(min)d and %(max)d characters."))])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(message=_l("Please type the password a second time."))])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


