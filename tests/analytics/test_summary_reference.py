"""The SQL-aggregated summary equals, figure for figure, the row-by-row reference."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from server.analytics.service import summary
from server.notifications.models import TYPES, Notification
from server.push.models import PushDelivery
from tests.analytics.reference import summary_row_by_row
from tests.conftest import Accounts
from tests.preferences.factories import add_device

START = datetime(2026, 3, 20, tzinfo=UTC)
END = datetime(2026, 4, 10, tzinfo=UTC)
# Whole-hour, half-hour and 45-minute offsets; spring-forward days in the range for
# Berlin (29 Mar), St John's (8 Mar, before it), Chatham, Lord Howe (a 30-minute
# change) and Santiago (5 Apr); Apia keeps +13 all year.
ZONES = (
    "UTC",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Apia",
)
STATUSES = ("queued", "delivered", "delivered", "failed", "expired", "sending")


def edge_instants() -> list[datetime]:
    """Instants a microsecond either side of each local midnight, and 0.4 ms before it
    (which SQLite's own date functions would round into the next day)."""
    instants = []
    for name in ZONES:
        zone = ZoneInfo(name)
        day = START.date()
        while day < END.date():
            midnight = datetime.combine(day, time(), zone).astimezone(UTC)
            for delta in (0, 1, -1, -400):
                instants.append(midnight + timedelta(microseconds=delta))
            day += timedelta(days=1)
    return instants


def maybe_after(rng: random.Random, created: datetime, chance: float) -> datetime | None:
    if rng.random() > chance:
        return None
    return created + timedelta(microseconds=rng.randrange(-5_000_000, 90_000_000_000))


def notifications_for(user_id: int, rng: random.Random) -> list[Notification]:
    span = int((END - START).total_seconds())
    created = [START + timedelta(seconds=rng.uniform(0, span)) for _ in range(400)]
    created += [*edge_instants(), START, END, START - timedelta(microseconds=1)]
    rows = []
    for at in created:
        row = Notification(
            user_id=user_id,
            type=rng.choice((*TYPES, "digest")),
            event="x.created",
            title="t",
            body="b",
            url="/",
            created_at=at,
            shown_at=maybe_after(rng, at, 0.6),
            clicked_at=maybe_after(rng, at, 0.3),
        )
        # Whole seconds now and then, so equal read times (and even counts) occur.
        read = maybe_after(rng, at, 0.5)
        row.read_at = read.replace(microsecond=0) if read and rng.random() < 0.3 else read
        # Some read by "mark all as read": counted in `read`, not in the median.
        row.read_in_bulk = read is not None and rng.random() < 0.25
        rows.append(row)
    return rows


async def seed(app: Any, user_id: int, devices: list[str], rng: random.Random) -> None:
    async with app.state.db.writer() as session:
        rows = notifications_for(user_id, rng)
        session.add_all(rows)
        await session.flush()
        for row in rows:
            for device in rng.sample(devices, rng.randrange(len(devices) + 1)):
                session.add(
                    PushDelivery(
                        notification_id=row.id,
                        subscription_id=int(device),
                        status=rng.choice(STATUSES),
                        payload="{}",
                        ttl=60,
                        urgency="normal",
                        expires_at=row.created_at + timedelta(days=1),
                    )
                )
        await session.commit()


async def test_sql_summary_equals_the_row_by_row_reference(app: Any, accounts: Accounts) -> None:
    vendor, other = await accounts.vendor(), await accounts.vendor()
    rng = random.Random(20260329)
    for account in (vendor, other):
        devices = [await add_device(app, account.id) for _ in range(3)]
        await seed(app, int(account.id), devices, rng)
    ranges = [(START, END), (END - timedelta(days=366), END), (START, START + timedelta(hours=1))]
    async with app.state.db.reader() as session:
        for name in ZONES:
            for start, end in ranges:
                expected = await summary_row_by_row(session, int(vendor.id), start, end, name)
                got = await summary(session, int(vendor.id), start, end, name)
                assert got.model_dump() == expected.model_dump(), (name, start, end)
                assert list(got.by_type) == list(expected.by_type)


async def test_ranges_at_the_ends_of_the_calendar_are_answered(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    for query in (
        "from=9999-12-30T00:00:00Z&to=9999-12-31T23:00:00Z&tz=Pacific/Kiritimati",
        "from=0001-01-01T00:00:00Z&to=0001-01-05T00:00:00Z&tz=America/New_York",
    ):
        r = await client.get(f"/api/analytics/summary?{query}", headers=vendor.headers)
        assert (r.status_code, r.json()["totals"]["notifications"]) == (200, 0), query
