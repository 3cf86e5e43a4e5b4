"""The period's conversations counted in two passes that several figures share.

Each figure used to read the period's conversations again (a 30-day report re-read 33,000
rows a dozen times); grouped once by quarter hour and sentiment, and once by category,
place and assignee, the rows are read twice and the figures are sums in Python.
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func

from app.reports import groups, stats
from models import Conversation as C
from models import db

# What by_owner counts for each (category, touchpoint, assignee).
COUNTS = ("conversations", "csat_answers", "csat_high", "nps_answers", "promoters",
          "detractors", "resolved", *groups.GROUPS)


def in_period(period, column=C.created_at):
    return [column >= period.start, column < period.end]


def local_buckets(query, period):
    """Yield (local datetime, *rest) for rows (quarter hour, *rest) of `query`."""
    zone, local = ZoneInfo(period.timezone), {}
    for bucket, *rest in db.session.execute(query):
        if bucket not in local:  # a bucket comes once per sentiment: place it once
            local[bucket] = datetime.fromtimestamp(int(bucket) * stats.BUCKET_SECONDS,
                                                   UTC).astimezone(zone)
        yield (local[bucket], *rest)


def by_time(scope, period):
    """Return [(local datetime of the quarter hour, sentiment, conversations begun)]."""
    bucket = stats.quarter_hour(C.created_at)
    query = db.select(bucket, C.sentiment, func.count()).where(
        *scope, *in_period(period)).group_by(bucket, C.sentiment)
    return list(local_buckets(query, period))


def by_owner(scope, period):
    """Return [(category id, touchpoint id, assignee id, {COUNTS name: number})]."""
    rules = groups.group_rules()
    columns = [func.count(), func.count(C.csat), func.count().filter(C.csat >= 4),
               func.count(C.nps), func.count().filter(C.nps >= 9),
               func.count().filter(C.nps <= 6), func.count().filter(C.resolved_count > 0),
               *(func.sum(case((rules[group], 1), else_=0)) for group in groups.GROUPS)]
    owner = (C.category_id, C.touchpoint_id, C.assignee_id)
    query = db.select(*owner, *columns).where(*scope, *in_period(period)).group_by(*owner)
    return [(category, touchpoint, assignee,
             dict(zip(COUNTS, (number or 0 for number in numbers), strict=True)))
            for category, touchpoint, assignee, *numbers in db.session.execute(query)]


def summed(rows, index=None):
    """Return the COUNTS summed over `rows` of by_owner, or {row[index]: COUNTS summed}."""
    totals = {}
    for row in rows:
        into = totals.setdefault(None if index is None else row[index], dict.fromkeys(COUNTS, 0))
        for name, number in row[3].items():
            into[name] += number
    return totals.get(None, dict.fromkeys(COUNTS, 0)) if index is None else totals
