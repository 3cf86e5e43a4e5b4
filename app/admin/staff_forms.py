"""Forms of the staff and teams pages and of accepting an invitation; Flask-WTF adds a CSRF
token to every one. Choices are the brand's own; the domain checks them again. The templates
draw the checkboxes themselves (one form per member shares a page), so the fields here are
plain multiple choices."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.admin.forms import LANGUAGE_CHOICES
from app.admin.invites import MAX_INVITES
from app.core.forms import Form, SetPasswordForm
from app.core.permissions import role_label
from app.core.validators import TOO_LONG, strip
from models.common import EMAIL_MAX, NAME_MAX

# Room for MAX_INVITES addresses of the longest kind with their separators.
EMAILS_MAX = MAX_INVITES * (EMAIL_MAX + 2)


def _teams_field():
    return SelectMultipleField(_l("Teams"), coerce=int, invalid_choice_message=_l(
        "Please choose among your brand's teams."))


def _places_field():
    return SelectMultipleField(_l("Places (none: every place)"), coerce=int,
                              invalid_choice_message=_l("Please choose among your brand's "
                                                        "places."))


def _role_field():
    return SelectField(_l("Role"), invalid_choice_message=_l(
        "Please choose one of the roles you may give."))


class AccessForm(Form):
    """The teams a member of staff answers for and the places they work."""

    teams = _teams_field()
    touchpoints = _places_field()

    def __init__(self, teams, touchpoints, **kwargs):
        super().__init__(**kwargs)
        self.teams.choices = [SelectChoice(t.id, t.name) for t in teams]
        self.touchpoints.choices = [
            SelectChoice(t.id, t.label if t.archived_at is None
                         else _("%(place)s (archived)", place=t.label)) for t in touchpoints]


class InviteForm(AccessForm):
    emails = TextAreaField(_l("Email addresses"), filters=[strip], validators=[
        DataRequired(message=_l("Please enter at least one email address.")),
        Length(max=EMAILS_MAX, message=TOO_LONG)])
    role = _role_field()

    def __init__(self, roles, teams, touchpoints, **kwargs):
        """`roles`: those the inviter may give; `teams`, `touchpoints`: the brand's."""
        super().__init__(teams, touchpoints, **kwargs)
        self.role.choices = [SelectChoice(r, role_label(r)) for r in roles]


class RoleForm(Form):
    role = _role_field()

    def __init__(self, roles, **kwargs):
        super().__init__(**kwargs)
        self.role.choices = [SelectChoice(r, role_label(r)) for r in roles]


class TeamForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(message=_l("Please give the team a name, e.g. Housekeeping.")),
        Length(max=NAME_MAX, message=TOO_LONG)])


class MemberForm(Form):
    staff = SelectField(_l("Add someone"), coerce=int, invalid_choice_message=_l(
        "Please choose someone of your staff."))

    def __init__(self, candidates, **kwargs):
        super().__init__(**kwargs)
        self.staff.choices = [SelectChoice(s.id, s.name) for s in candidates]


class AcceptInvitationForm(SetPasswordForm):
    name = StringField(_l("Your name"), filters=[strip], validators=[
        DataRequired(message=_l("Please give your name as your colleagues know it.")),
        Length(max=NAME_MAX, message=TOO_LONG)])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES,
                           invalid_choice_message=_l("Please choose English or Türkçe."))


def form_problems(form):
    """Return a refused form's errors as sentences; an expired token says so in words."""
    problems = []
    for name, errors in form.errors.items():
        if name == "csrf_token":
            problems.append(_l("The form expired: please try again."))
        else:
            problems.extend(errors)
    return [str(p) for p in problems] or [str(_l("The form expired: please try again."))]
