"""The summary as first written: every row fetched and counted in Python.

Kept as the reference the SQL aggregation in server/analytics/service.py must equal
exactly (tests/analytics/test_summary_reference.py), and as the "before" of
bench/bench_summary.py.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.analytics.schemas import DayFigures, Figures, SummaryOut
from server.analytics.service import check_range, time_zone
from server.notifications.models import TYPES, Notification
from server.push.models import PushDelivery


@dataclass
class _Tally:
    notifications: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reached: int = 0
    shown: int = 0
    clicked: int = 0
    read: int = 0
    read_seconds: list[float] = field(default_factory=list)  # not those read in bulk

    def add(self, row: Notification, statuses: dict[str, int]) -> None:
        self.notifications += 1
        for status, n in statuses.items():
            self.statuses[status] += n
        self.reached += statuses.get("delivered", 0) > 0
        self.shown += row.shown_at is not None
        self.clicked += row.clicked_at is not None
        self.read += row.read_at is not None
        if row.read_at is not None and not row.read_in_bulk:
            self.read_seconds.append((row.read_at - row.created_at).total_seconds())

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
            median_seconds_to_read=(
                statistics.median(self.read_seconds) if self.read_seconds else None
            ),
        )


async def summary_row_by_row(
    session: AsyncSession, user_id: int, start: datetime, end: datetime, tz: str = "UTC"
) -> SummaryOut:
    """Figures for notifications created in [start, end): in total, per type, per day in `tz`."""
    check_range(start, end)
    zone = time_zone(tz)
    in_range = (
        Notification.user_id == user_id,
        Notification.created_at >= start,
        Notification.created_at < end,
    )
    rows = (await session.scalars(select(Notification).where(*in_range))).all()
    statuses: dict[int, dict[str, int]] = defaultdict(dict)
    grouped = await session.execute(
        select(PushDelivery.notification_id, PushDelivery.status, func.count())
        .join(Notification, Notification.id == PushDelivery.notification_id)
        .where(*in_range)
        .group_by(PushDelivery.notification_id, PushDelivery.status)
    )
    for notification_id, status, n in grouped:
        statuses[notification_id][status] = n
    totals = _Tally()
    by_type = {t: _Tally() for t in TYPES}
    by_day: dict[date, _Tally] = defaultdict(_Tally)
    for row in rows:
        these = statuses.get(row.id, {})
        for tally in (
            totals,
            by_type.setdefault(row.type, _Tally()),
            by_day[row.created_at.astimezone(zone).date()],
        ):
            tally.add(row, these)
    return SummaryOut(
        from_=start,
        to=end,
        tz=tz,
        totals=totals.figures(),
        by_type={t: tally.figures() for t, tally in by_type.items()},
        by_day=[
            DayFigures(date=day, **by_day[day].figures().model_dump()) for day in sorted(by_day)
        ],
    )
