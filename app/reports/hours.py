"""Business hours as UTC intervals, and the seconds of a span that fall inside them."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.brand import WEEKDAYS


def open_intervals(start, end, timezone, hours):
    """Return [(opens, closes)] in naive UTC where a brand with `hours` is open between the
    naive UTC moments `start` and `end`; no hours at all means open around the clock."""
    if not hours:
        return [(start, end)]
    zone = ZoneInfo(timezone)
    day = start.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    last = end.replace(tzinfo=UTC).astimezone(zone).date()
    intervals = []
    while day <= last:
        today = hours.get(WEEKDAYS[day.weekday()])
        if today:
            opens, closes = (time.fromisoformat(value) for value in today)
            # Each bound is converted on its own, so a day of a DST change keeps its real length.
            opens_at = _utc(datetime.combine(day, opens, zone))
            closing_day = day + timedelta(days=1) if closes <= opens else day  # past midnight
            closes_at = _utc(datetime.combine(closing_day, closes, zone))
            opens_at, closes_at = max(opens_at, start), min(closes_at, end)
            if opens_at < closes_at:
                intervals.append((opens_at, closes_at))
        day += timedelta(days=1)
    return _merged(intervals)


def _merged(intervals):
    """Join overlapping intervals: a night's hours past midnight may meet the next day's."""
    merged = []
    for opens, closes in sorted(intervals):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _utc(aware):
    return aware.astimezone(UTC).replace(tzinfo=None)


def business_seconds(start, end, timezone, hours):
    """Return how many seconds between naive UTC `start` and `end` the brand was open."""
    if end <= start:
        return 0.0
    return sum((closes - opens).total_seconds()
               for opens, closes in open_intervals(start, end, timezone, hours))
