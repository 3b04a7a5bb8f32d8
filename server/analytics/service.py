"""Engagement figures for one user's notifications created in a time range.

Aggregated in SQL: counts per (local day, type) and per (local day, type, delivery
status), and the one or two middle read times of each group a median is asked of, so
a 366-day range fetches a few thousand small rows, not every notification. Local days
are bucketed in SQL with UTC offsets taken from zoneinfo (not the database's own zone
data, which SQLite lacks and PostgreSQL may hold in another version), so both backends
give exactly the figures that counting row by row in Python gave
(tests/analytics/reference.py).

A reading is a person opening one notification (POST /api/notifications/{id}/read or a
click on its push): rows read by "mark all as read" (read_in_bulk) count in `read` but
not in `median_seconds_to_read`, whose seconds would only say when the list was cleared.

bench/bench_summary.py (20,000 notifications and 40,000 deliveries over a year, a
366-day summary in Europe/Berlin): rows fetched 47,374 -> 4,927; one call on SQLite
580 -> 125 ms (time the event loop stalls, as reads run inline), on PostgreSQL
600 -> 95 ms.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    String,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from server.analytics.orders import order_figures
from server.analytics.schemas import DayFigures, Figures, SummaryOut
from server.analytics.timestamps import local_date, micros_between, offset_spans
from server.core.errors import Invalid
from server.notifications.models import TYPES, Notification
from server.push.models import PushDelivery

MAX_RANGE = timedelta(days=366)
# The tags of the median query's three groupings.
_TOTAL, _TYPE, _DAY = 0, 1, 2


@dataclass
class _Tally:
    notifications: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reached: int = 0
    shown: int = 0
    clicked: int = 0
    read: int = 0
    middle_micros: list[int] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        """Sum the counts (not the medians: those come from SQL per grouping)."""
        self.notifications += other.notifications
        self.statuses.update(other.statuses)
        self.reached += other.reached
        self.shown += other.shown
        self.clicked += other.clicked
        self.read += other.read

    def median_seconds(self) -> float | None:
        # As statistics.median over seconds: the middle value, or the mean of the two.
        seconds = [us / 10**6 for us in self.middle_micros]
        return seconds[0] if len(seconds) == 1 else (sum(seconds) / 2 if seconds else None)

    def figures(self) -> Figures:
        s = self.statuses
        return Figures(
            notifications=self.notifications,
            sent=sum(s.values()),
            queued=s["queued"],
            delivered=s["delivered"],
            failed=s["failed"],
            expired=s["expired"],
            reached=self.reached,
            shown=self.shown,
            clicked=self.clicked,
            read=self.read,
            ctr=round(self.clicked / self.reached, 4) if self.reached else None,
            median_seconds_to_read=self.median_seconds(),
        )


def check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from and to need a time zone (e.g. …Z).", code="naive_datetime")
    if end <= start:
        raise Invalid("to must be after from.", code="invalid_range")
    if end - start > MAX_RANGE:
        raise Invalid("A summary covers at most 366 days.", code="range_too_long")


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"{name!r} is not an IANA time zone.", code="invalid_time_zone") from exc


def _in_range(user_id: int, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Notification.user_id == user_id,
        Notification.created_at >= start,
        Notification.created_at < end,
    )


def _counts(
    day: ColumnElement[date], in_range: tuple[ColumnElement[bool], ...]
) -> CompoundSelect[Any]:
    """Per (day, type): the notification counts (status NULL), then one row per delivery
    status (its deliveries, and how many notifications have one)."""
    rows = select(
        Notification.id,
        Notification.type,
        day.label("day"),
        Notification.shown_at,
        Notification.clicked_at,
        Notification.read_at,
    ).where(*in_range)
    # Used twice, so both backends compute it (and each day) once.
    found = rows.cte("in_range")
    zero = literal(0, Integer)
    per_type = select(
        found.c.day,
        found.c.type,
        cast(null(), String),
        func.count(),
        func.count(found.c.shown_at),
        func.count(found.c.clicked_at),
        func.count(found.c.read_at),
        zero,
        zero,
    ).group_by(found.c.day, found.c.type)
    per_status = (
        select(
            found.c.day,
            found.c.type,
            PushDelivery.status,
            *(zero,) * 4,
            func.count(),
            func.count(found.c.id.distinct()),
        )
        .join(PushDelivery, PushDelivery.notification_id == found.c.id)
        .group_by(found.c.day, found.c.type, PushDelivery.status)
    )
    return union_all(per_type, per_status)


def _middle_reads(
    day: ColumnElement[date], micros: ColumnElement[int], in_range: tuple[ColumnElement[bool], ...]
) -> CompoundSelect[int, date | None, str | None, int]:
    """Per grouping (all, per type, per day), the one or two middle read times of the
    notifications read one by one (not in bulk)."""
    reads = (
        select(day.label("day"), Notification.type, micros.label("micros"))
        .where(*in_range, Notification.read_at.is_not(None), Notification.read_in_bulk.is_(False))
        .cte("reads")
    )
    groupings = ((_TOTAL, ()), (_TYPE, (reads.c.type,)), (_DAY, (reads.c.day,)))
    parts = []
    for tag, keys in groupings:
        ranked = select(
            reads.c.day,
            reads.c.type,
            reads.c.micros,
            func.row_number().over(partition_by=keys, order_by=reads.c.micros).label("n"),
            func.count().over(partition_by=keys).label("count"),
        ).subquery()
        # The middle one of an odd count (2n = count + 1), the middle two of an even one.
        parts.append(
            select(
                literal(tag, Integer),
                ranked.c.day if tag == _DAY else cast(null(), Date),
                ranked.c.type if tag == _TYPE else cast(null(), String),
                ranked.c.micros,
            ).where((2 * ranked.c.n).between(ranked.c.count, ranked.c.count + 2))
        )
    return union_all(*parts)


async def _tallies(
    session: AsyncSession, counts: CompoundSelect[Any]
) -> dict[tuple[date, str], _Tally]:
    tallies: dict[tuple[date, str], _Tally] = defaultdict(_Tally)
    for day, type_, status, n, shown, clicked, read, sent, with_status in await session.execute(
        counts
    ):
        tally = tallies[day, type_]
        if status is None:
            tally.notifications, tally.shown, tally.clicked, tally.read = n, shown, clicked, read
            continue
        tally.statuses[status] = sent
        if status == "delivered":
            tally.reached = with_status
    return tallies


def _fold(
    tallies: dict[tuple[date, str], _Tally],
) -> tuple[_Tally, dict[str, _Tally], dict[date, _Tally]]:
    """The (day, type) counts summed in total, per type (every known one) and per day."""
    totals = _Tally()
    by_type = {t: _Tally() for t in TYPES}
    by_day: dict[date, _Tally] = defaultdict(_Tally)
    for (day, type_), tally in sorted(tallies.items()):
        for group in (totals, by_type.setdefault(type_, _Tally()), by_day[day]):
            group.add(tally)
    return totals, by_type, by_day


async def summary(
    session: AsyncSession, user_id: int, start: datetime, end: datetime, tz: str = "UTC"
) -> SummaryOut:
    """Figures for notifications created in [start, end): in total, per type, per day in
    `tz`; and for the orders the user received as a vendor in that range."""
    check_range(start, end)
    zone = time_zone(tz)
    dialect = session.get_bind().dialect.name
    local_day = local_date(Notification.created_at, offset_spans(zone, start, end), dialect)
    in_range = _in_range(user_id, start, end)
    totals, by_type, by_day = _fold(await _tallies(session, _counts(local_day, in_range)))
    groups: dict[tuple[int, date | None, str | None], _Tally] = {(_TOTAL, None, None): totals}
    groups.update({(_TYPE, None, t): tally for t, tally in by_type.items()})
    groups.update({(_DAY, d, None): tally for d, tally in by_day.items()})
    middle = _middle_reads(
        local_day, micros_between(Notification.read_at, Notification.created_at, dialect), in_range
    )
    for tag, day, type_, micros in await session.execute(middle):
        groups[tag, day, type_].middle_micros.append(micros)
    return SummaryOut(
        from_=start,
        to=end,
        tz=tz,
        totals=totals.figures(),
        by_type={t: tally.figures() for t, tally in by_type.items()},
        by_day=[DayFigures(date=d, **tally.figures().model_dump()) for d, tally in by_day.items()],
        **(await order_figures(session, user_id, start, end)).model_dump(),
    )
