"""Forms a member of staff fills in about their own account."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from app.core.forms import Form, SetPasswordForm
from app.core.validators import EMAIL, TOO_LONG, strip
from models.common import EMAIL_MAX, NAME_MAX

# Empty: pages follow the browser; alerts and mail, which have none, the brand's language.
LANGUAGE_CHOICES = [SelectChoice("", _l("Automatic")),
                    SelectChoice("en", "English"), SelectChoice("tr", "Türkçe")]


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter your email address.")),
        Length(max=EMAIL_MAX, message=TOO_LONG),
        Regexp(EMAIL, message=_l("That does not look like an email address."))])


class ProfileForm(Form):
    name = StringField(_l("Your name"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter your name.")),
        Length(max=NAME_MAX, message=TOO_LONG)])
    language = SelectField(_l("Language of the inbox, alerts and mail"),
                           choices=LANGUAGE_CHOICES, validate_choice=True)


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Your current password"), validators=[
        DataRequired(message=_l("Please enter your current password.")), Length(max=200)])

    def __init__(self, staff, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = staff

    def validate_current(self, field):
        if not self.staff.check_password(field.data):
            raise ValidationError(_l("That is not your current password."))
