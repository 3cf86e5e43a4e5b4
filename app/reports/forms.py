"""The report's filter form: a GET form, read from the query string, its errors shown."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from app.core.forms import Form

MAX_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2100
PERIODS = (("today", _l("Today")), ("7d", _l("Last 7 days")), ("30d", _l("Last 30 days")),
           ("custom", _l("Custom range")))


class ListField(SelectField):
    """A select whose unknown value (or another brand's id) says so in plain words."""

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_l("This is not one of the choices: please pick one from "
                                     "the list."))


class ReportForm(Form):
    class Meta:
        csrf = False  # a GET form that reads and changes nothing

    period = ListField(_l("Period"), choices=[SelectChoice(*pair) for pair in PERIODS],
                       default="7d")
    start = DateField(_l("First day"), validators=[Optional()])
    end = DateField(_l("Last day"), validators=[Optional()])
    touchpoint = ListField(_l("Place"), default="")
    category = ListField(_l("Category"), default="")
    team = ListField(_l("Team"), default="")
    agent = ListField(_l("Agent"), default="")

    def set_choices(self, touchpoints, categories, teams, agents):
        """Offer `(id, label)` pairs for each filter, "all" first."""
        for field, pairs in ((self.touchpoint, touchpoints), (self.category, categories),
                             (self.team, teams), (self.agent, agents)):
            field.choices = [SelectChoice("", _l("All"))] + [
                SelectChoice(str(key), label) for key, label in pairs]

    def validate(self, extra_validators=None):
        # Here, not in validate_end: Optional() stops a field's chain when it is empty.
        valid = super().validate(extra_validators)
        if valid and self.period.data == "custom":
            try:
                self._check_range(self.end)
            except ValidationError as error:
                self.end.errors = [*self.end.errors, *error.args]
                return False
        return valid

    def _check_range(self, field):
        if self.start.data is None or field.data is None:
            raise ValidationError(_l("Please give both dates of a custom range."))
        if not (FIRST_YEAR <= self.start.data.year and field.data.year <= LAST_YEAR):
            # Far years would overflow the previous period's dates and the zone conversion.
            raise ValidationError(_("Please choose dates between %(first)d and %(last)d.",
                                     first=FIRST_YEAR, last=LAST_YEAR))
        if field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))
        if (field.data - self.start.data).days + 1 > MAX_DAYS:
            raise ValidationError(_("Please choose at most %(days)d days.", days=MAX_DAYS))
