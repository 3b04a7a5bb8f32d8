"""Time arithmetic in SQL, exact on SQLite and PostgreSQL alike: the local date of a UTC
column in a time zone, and the microseconds between two columns.

SQLite has no time-zone data and PostgreSQL's may be another version than Python's, so
the zone's UTC offsets come from zoneinfo, found here for the range asked about and
written into the query as constants.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")
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
        after = before + min(_OFFSET_SAMPLE, last - before)  # no overflow near year 9999
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
    if dialect == "sqlite":
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" and rounds fractions to milliseconds
        # (23:59:59.9996 would become the next day): count in whole seconds.
        modifiers = [(since, f"{offset:+d} seconds") for since, offset in spans]
        day = func.date(func.substr(column, 1, 19), _in_force(column, modifiers))
        return type_coerce(day, Date())
    seconds = _in_force(column, spans) * literal_column("INTERVAL '1 second'")
    return cast(func.timezone("UTC", column) + seconds, Date)


def _in_force(column: Column, spans: list[tuple[datetime, T]]) -> ColumnElement[T]:
    """The value of the span the column's instant falls in (spans in order, from the start)."""
    if len(spans) == 1:
        return literal(spans[0][1])
    whens = [(column < since, value) for (_, value), (since, _) in pairwise(spans)]
    return case(*whens, else_=spans[-1][1])


def micros_between(later: Column, earlier: Column, dialect: str) -> ColumnElement[int]:
    """later - earlier in whole microseconds, exactly (seconds as a float would round)."""
    if dialect == "sqlite":
        return _sqlite_micros(later) - _sqlite_micros(earlier)
    # An exact numeric since PostgreSQL 14; before, a float close enough to round back.
    return cast(func.round(extract("epoch", later - earlier) * 10**6), BigInteger)


def _sqlite_micros(column: Column) -> ColumnElement[int]:
    seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)
    return seconds * 10**6 + cast(func.substr(column, 21, 6), BigInteger)
