"""The period and filters of a report, read from the query string into plain values."""
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from app.core.permissions import can
from app.reports.forms import ReportForm
from models import Category, StaffMember, Team, Touchpoint, db
from models.common import utcnow

SPANS = {"today": 1, "7d": 7, "30d": 30}
FILTERS = ("touchpoint", "category", "team", "agent")


@dataclass(frozen=True)
class Period:
    """Local days `first`..`last` (inclusive) of a zone, and their bounds in naive UTC."""

    first: object
    last: object
    timezone: str

    @property
    def days(self):
        return (self.last - self.first).days + 1

    @property
    def start(self):
        return _utc_midnight(self.first, self.timezone)

    @property
    def end(self):
        return _utc_midnight(self.last + timedelta(days=1), self.timezone)

    def dates(self):
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def previous(self):
        """Return the period of as many days just before this one (the trend's baseline)."""
        return Period(self.first - timedelta(days=self.days),
                      self.first - timedelta(days=1), self.timezone)


def _utc_midnight(day, timezone):
    local = datetime.combine(day, time(), ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Filters:
    touchpoint_id: int | None = None
    category_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None


def filter_choices(staff, brand, language):
    """Return what each filter may offer `staff`: only their brand's, and of that what they see."""
    touchpoints = db.session.scalars(db.select(Touchpoint).filter_by(brand_id=brand.id)
                                     .order_by(Touchpoint.position, Touchpoint.id)).all()
    if staff.touchpoint_ids is not None:
        touchpoints = [t for t in touchpoints if t.id in staff.touchpoint_ids]
    categories = db.session.scalars(db.select(Category).filter_by(brand_id=brand.id)
                                    .order_by(Category.position, Category.id)).all()
    if can(staff, "inbox.see_all"):
        teams = db.session.scalars(db.select(Team).filter_by(brand_id=brand.id)
                                   .order_by(Team.name)).all()
        agents = db.session.scalars(db.select(StaffMember).filter_by(brand_id=brand.id)
                                    .order_by(StaffMember.name)).all()
    else:
        teams = sorted(staff.teams, key=lambda team: team.name)
        mates = {m for team in teams for m in team.members} if can(staff, "inbox.see_team") \
            else set()
        agents = sorted(mates | {staff}, key=lambda member: member.name or "")
    return ([(t.id, t.label) for t in touchpoints],
            [(c.id, c.label(language)) for c in categories],
            [(t.id, t.name) for t in teams], [(a.id, a.name or a.email) for a in agents])


def parse(args, staff, brand, language):
    """Return (form, period, filters) from the query string; period is None if it is invalid."""
    data = MultiDict({key: args.get(key) for key in ("period", "start", "end", *FILTERS)
                      if args.get(key) is not None})
    form = ReportForm(formdata=data)
    form.set_choices(*filter_choices(staff, brand, language))
    if not form.validate():
        return form, None, None
    today = utcnow().replace(tzinfo=UTC).astimezone(ZoneInfo(brand.timezone)).date()
    if form.period.data == "custom":
        period = Period(form.start.data, form.end.data, brand.timezone)
    else:
        period = Period(today - timedelta(days=SPANS[form.period.data] - 1), today,
                        brand.timezone)
    filters = Filters(*(int(form[name].data) if form[name].data else None for name in FILTERS))
    return form, period, filters


def query_args(form):
    """Return the form's values as query-string pairs (for the export link)."""
    return {name: form[name].data.isoformat() if name in ("start", "end") else form[name].data
            for name in ("period", "start", "end", *FILTERS)
            if form[name].data not in (None, "")}
