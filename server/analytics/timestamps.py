"""Time arithmetic in SQL, exact on SQLite and PostgreSQL alike: the local date of a UTC
column in a time zone, and the microseconds between two columns.

SQLite has no time-zone data and PostgreSQL's may be another version than Python's, so
the zone's UTC offsets come from zoneinfo, found here for the range asked about and
written into the query as constants.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute

Column = InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]

# In the tz database two changes of a zone's UTC offset are never less than ~4 days
# apart (Africa/Freetown, 1939), so a daily sample sees every change; each one found is
# then bisected to the microsecond.
_OFFSET_SAMPLE = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)


def _utc_offset(zone: ZoneInfo, at: datetime) -> int:
    try:
        local = at.astimezone(zone)
    except OverflowError:  # within a day of year 1 or 9999: no local date to give anyway
        return 0
    offset = local.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_spans(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """Where [start, end) changes UTC offset in `zone`: (from this instant, offset seconds)."""
    spans = [(start, _utc_offset(zone, start))]
    before, last = start, end - _MICROSECOND  # the offset at `before` is spans[-1]'s
    while before < last:
        after = min(before + _OFFSET_SAMPLE, last)
        if _utc_offset(zone, after) != spans[-1][1]:
            while after - before > _MICROSECOND:  # bisect to the first instant of the change
                middle = before + (after - before) // 2
                if _utc_offset(zone, middle) == spans[-1][1]:
                    before = middle
                else:
                    after = middle
            spans.append((after, _utc_offset(zone, after)))
        before = after
    return spans


def local_date(
    column: Column, spans: list[tuple[datetime, int]], dialect: str
) -> ColumnElement[date]:
    """The local date of a UTC column: its date once the offset in force then is added."""
    offset: ColumnElement[int] = literal(spans[-1][1], Integer)
    if len(spans) > 1:
        whens = [(column < since, off) for (_, off), (since, _) in pairwise(spans)]
        offset = case(*whens, else_=spans[-1][1])
    if dialect == "sqlite":
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" and rounds fractions to milliseconds
        # (23:59:59.9996 would become the next day): count in whole seconds.
        modifier = func.printf("%+d seconds", offset)
        return type_coerce(func.date(func.substr(column, 1, 19), modifier), Date())
    utc = func.timezone("UTC", column)
    return cast(utc + offset * literal_column("INTERVAL '1 second'"), Date)


def micros_between(later: Column, earlier: Column, dialect: str) -> ColumnElement[int]:
    """later - earlier in whole microseconds, exactly (seconds as a float would round)."""
    if dialect == "sqlite":
        return _sqlite_micros(later) - _sqlite_micros(earlier)
    # An exact numeric since PostgreSQL 14; before, a float close enough to round back.
    return cast(func.round(extract("epoch", later - earlier) * 10**6), BigInteger)


def _sqlite_micros(column: Column) -> ColumnElement[int]:
    seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)
    return seconds * 10**6 + cast(func.substr(column, 21, 6), BigInteger)
