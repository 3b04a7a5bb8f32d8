"""Analytics summary benchmark: SQL aggregation against the row-by-row reference.

    python -m bench.bench_summary [--notifications 20000] [--repeat 5]

One vendor with N notifications spread over a year (two devices, so 2N deliveries;
most shown, some clicked, half read) and a second vendor as large, so the query has to
pick one user's rows. For each backend, a 366-day summary in Europe/Berlin: the best
wall time of --repeat calls and the rows fetched, for server.analytics.service.summary
and for tests/analytics/reference.py (the implementation it replaced). On SQLite the
reads run inline on the event loop, so the wall time is how long the loop stalls.
PostgreSQL runs when BENCH_DATABASE_URL (or the local default) answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from server.accounts.models import User
from server.analytics.schemas import SummaryOut
from server.analytics.service import summary
from server.core.config import Settings
from server.core.db import Database
from server.core.migrate import upgrade
from server.notifications.models import TYPES, Notification
from server.push.models import PushDelivery, PushSubscription
from tests.analytics.reference import summary_row_by_row

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
END = datetime(2027, 1, 1, tzinfo=UTC)
START = END - timedelta(days=366)
Summary = Callable[[AsyncSession, int, datetime, datetime, str], Awaitable[SummaryOut]]


def notification_rows(user_id: int, n: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        created = START + timedelta(seconds=rng.uniform(0, 365 * 86400))
        later = created + timedelta(seconds=rng.uniform(1, 7200))
        rows.append(
            {
                "user_id": user_id,
                "type": rng.choice(TYPES),
                "event": "order.created",
                "title": "New order #1042 — 2 items",
                "body": "2 x Flat white, 1 x Croissant",
                "url": "/orders/1042",
                "data": {"order_id": "1042"},
                "created_at": created,
                "shown_at": later if rng.random() < 0.8 else None,
                "clicked_at": later if rng.random() < 0.3 else None,
                "read_at": later if rng.random() < 0.5 else None,
            }
        )
    return rows


async def seed(db: Database, n: int) -> int:
    """Two vendors of n notifications each; returns the first one's id."""
    rng = random.Random(1)
    async with db.writer() as session:
        users = []
        for i in range(2):
            user = User(email=f"v{i}@example.com", name="V", role="vendor", password_hash="x")
            session.add(user)
            await session.flush()
            devices = []
            for d in range(2):
                sub = PushSubscription(
                    user_id=user.id,
                    endpoint=f"http://127.0.0.1:9/{i}/{d}",
                    p256dh="BPx",
                    auth="a",
                    vapid_key_id="k",
                )
                session.add(sub)
                await session.flush()
                devices.append(sub.id)
            ids = await session.scalars(
                insert(Notification).returning(Notification.id),
                notification_rows(user.id, n, rng),
            )
            deliveries = [
                {
                    "notification_id": nid,
                    "subscription_id": device,
                    "status": rng.choice(("delivered", "delivered", "delivered", "failed")),
                    "payload": "{}",
                    "ttl": 86400,
                    "urgency": "normal",
                    "expires_at": END,
                }
                for nid in ids.all()
                for device in devices
            ]
            await session.execute(insert(PushDelivery), deliveries)
            users.append(user.id)
        await session.commit()
    return users[0]


async def measure(db: Database, user_id: int, run: Summary, repeat: int) -> tuple[float, int]:
    """Best wall time of `repeat` calls, and the rows the call fetched."""
    best, fetched = float("inf"), 0
    for _ in range(repeat):
        async with db.reader() as session:
            counted = _count_rows(session)
            started = time.perf_counter()
            await run(session, user_id, START, END, "Europe/Berlin")
            best = min(best, time.perf_counter() - started)
            fetched = counted()
    return best, fetched


def _count_rows(session: AsyncSession) -> Callable[[], int]:
    """Wrap session.execute (session.scalars goes through it) to count rows fetched."""
    execute, total = session.execute, [0]

    async def counting(*args: Any, **kwargs: Any) -> Any:
        frozen = (await execute(*args, **kwargs)).freeze()
        total[0] += len(frozen.data)
        return frozen()

    session.execute = counting  # type: ignore[method-assign]
    return lambda: total[0]


async def bench(name: str, url: str, workdir: Path, args: argparse.Namespace) -> None:
    await asyncio.to_thread(upgrade, Settings(_env_file=None, database_url=url, data_dir=workdir))  # type: ignore[call-arg]
    db = Database(url)
    try:
        user_id = await seed(db, args.notifications)
        before = await measure(db, user_id, summary_row_by_row, args.repeat)
        after = await measure(db, user_id, summary, args.repeat)
    finally:
        await db.dispose()
    print(f"{name}: {args.notifications} notifications, 366-day summary in Europe/Berlin")
    for label, (seconds, rows) in (("row by row (before)", before), ("SQL (after)", after)):
        print(f"  {label:20} {seconds * 1000:7.1f} ms  {rows:6} rows fetched")
    print(f"  ratio: {before[0] / after[0]:.1f}x faster, {before[1] / after[1]:.1f}x fewer rows")


async def postgres(args: argparse.Namespace, workdir: Path) -> None:
    admin_url = args.database_url
    name = f"vendorbell_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        print(f"PostgreSQL skipped: {admin_url} does not answer ({exc})")
        return
    try:
        await bench("PostgreSQL", f"{admin_url.rpartition('/')[0]}/{name}", workdir, args)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        await bench("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir, args)
        await postgres(args, workdir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT))
    asyncio.run(main(parser.parse_args()))
