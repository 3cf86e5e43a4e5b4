"""SQL that differs between PostgreSQL and SQLite, and percentiles where SQLite has none."""
import math

from sqlalchemy import Float, Integer, cast, func, literal, tuple_

from models import db

BUCKET_SECONDS = 900  # every zone's offset is a whole number of quarter hours
TOTAL = object()  # durations' key for the figures over every key's rows


def is_postgres():
    return db.session.get_bind().dialect.name == "postgresql"


def seconds_between(start, end):
    """Return SQL for the seconds from `start` to `end` (naive UTC timestamps)."""
    if is_postgres():  # date_part is double precision; extract() computes in numeric
        return func.date_part("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def quarter_hour(column):
    """Return SQL for the UTC quarter hour a moment falls in, as a whole number: grouped by it,
    a period's rows become a few thousand buckets that Python places in the brand's zone."""
    if is_postgres():  # date_part(epoch) of a timestamp without zone reads it as UTC
        # over a float: SQLAlchemy would cast an integer divisor to numeric, which is slow
        return cast(func.floor(func.date_part("epoch", column) / literal(float(BUCKET_SECONDS),
                                                                          Float)), Integer)
    return cast(func.strftime("%s", column), Integer) // BUCKET_SECONDS


def least(*values):
    return func.least(*values) if is_postgres() else func.min(*values)


def greatest(*values):
    return func.greatest(*values) if is_postgres() else func.max(*values)


def percentile(values, fraction):
    """Return PostgreSQL's percentile_cont of sorted `values` (linear between ranks), or None."""
    if not values:
        return None
    rank = fraction * (len(values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


def durations(seconds, conditions, target=None, key=None, joins=(), total=False):
    """Return {key: {count, median, p90, mean, within}} of the SQL `seconds` over the rows
    `conditions` select (NULLs left out); `within` counts those at most `target` seconds.
    With `total`, the same figures over all the rows as well, under the key TOTAL."""
    key = literal(0) if key is None else key
    where = [*conditions, seconds.is_not(None)]
    if is_postgres():  # the database sorts: only one row per key comes back
        columns = [key, func.count(), func.percentile_cont(0.5).within_group(seconds),
                   func.percentile_cont(0.9).within_group(seconds), func.avg(seconds)]
        columns.append(func.count().filter(seconds <= target) if target is not None
                       else literal(None))
        grouping = key
        if total:  # one pass for both: GROUPING(key) tells the all-rows row from a NULL key
            columns.append(func.grouping(key))
            grouping = func.grouping_sets(tuple_(), tuple_(key))
        query = _joined(db.select(*columns), joins).where(*where).group_by(grouping)
        return {TOTAL if total and row[6] else row[0]:
                _stats(row[1], *(float(v) for v in row[2:5]), row[5])
                for row in db.session.execute(query) if row[1]}  # () has a row over none
    query = _joined(db.select(key, seconds), joins).where(*where).order_by(key, seconds)
    grouped = {}
    for group, value in db.session.execute(query):
        grouped.setdefault(group, []).append(float(value))
    if total and grouped:
        grouped[TOTAL] = sorted(value for values in list(grouped.values()) for value in values)
    return {group: _stats(len(values), percentile(values, 0.5), percentile(values, 0.9),
                          sum(values) / len(values),
                          None if target is None else sum(v <= target for v in values))
            for group, values in grouped.items()}


def _joined(query, joins):
    for target, on in joins:
        query = query.join(target, on)
    return query


def _stats(count, median, p90, mean, within):
    return {"count": count, "median": median, "p90": p90, "mean": mean, "within": within,
            "within_share": None if within is None or not count else within / count}


def empty():
    return _stats(0, None, None, None, 0)
