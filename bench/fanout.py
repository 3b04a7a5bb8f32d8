"""Broadcast fan-out: the set-based notify_many against a per-user notify() loop.

    python -m bench.fanout [--users 10000] [--database-url URL] [--batch 500 1000 ...]
                           [--paths per_user set_based]

prints one JSON line per batch size (`measure_enqueue`'s result).

`measure_enqueue(database_url, users)` seeds a fresh database (a new one on the
PostgreSQL server of `database_url`, dropped afterwards; a temporary file for
SQLite) with two cohorts of `users` vendors, one push subscription each, and sends
one system notice to each cohort in batches of `batch` users (by default the broadcast's
chunk for that database: server.admin.broadcasts.CHUNKS), one transaction per
batch as the broadcast fan-out does: the first cohort through notify() once per
user (what broadcasts did before), the second through notify_many. The per-user
run goes first, so the set-based one writes into the larger tables.

Rows are notifications plus push deliveries written; seconds run from the first
batch's BEGIN to the last one's COMMIT (hooks included), seeding excluded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from server.accounts.models import User
from server.admin.broadcasts import CHUNKS
from server.background import CACHES, feature_hooks
from server.core.cache import Caches
from server.core.config import Settings
from server.core.db import Database
from server.core.migrate import upgrade
from server.core.signals import Signals
from server.core.unit_of_work import Shared, UnitOfWork, UnitOfWorkFactory
from server.notifications.fanout import notify_many
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences
from server.notifications.service import notify
from server.push.models import PushDelivery, PushSubscription
from server.realtime.hub import MemoryHub

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOTICE: dict[str, Any] = {
    "type": "system",
    "event": "system.broadcast",
    "title": "Scheduled maintenance tonight",
    "body": "The marketplace will be read-only from 02:00 to 02:30 UTC.",
    "url": "/notifications",
    "data": {"broadcast_id": "1"},
}

Send = Callable[[UnitOfWork, Sequence[int]], Awaitable[None]]


async def per_user(uow: UnitOfWork, user_ids: Sequence[int]) -> None:
    """What a broadcast chunk did before: preferences in one query, then notify() each."""
    await preferences.preload(uow, user_ids)
    for user_id in user_ids:
        await notify(uow, user_id, **NOTICE)


async def set_based(uow: UnitOfWork, user_ids: Sequence[int]) -> None:
    await notify_many(uow, user_ids, **NOTICE)


SENDS: dict[str, Send] = {"per_user": per_user, "set_based": set_based}


async def measure_enqueue(
    database_url: str = PG_DEFAULT,
    users: int = 10_000,
    *,
    batch: int | None = None,
    paths: Sequence[str] = ("per_user", "set_based"),
) -> dict[str, Any]:
    """Rows per second of both paths (or of `paths`) for `users` recipients, and the
    set-based one's ratio to the per-user one; see the module docstring."""
    with tempfile.TemporaryDirectory(prefix="vb-fanout-") as tmp:
        async with _fresh_database(database_url, Path(tmp)) as settings:
            database = Database(settings.database_url)
            # The service's own hooks: the push and webhook channels write their rows on
            # both paths, as in the running service.
            units = UnitOfWorkFactory(
                database,
                Shared(
                    settings,
                    caches=Caches(CACHES),
                    hub=MemoryHub(),
                    signals=Signals(),
                    hooks=feature_hooks(),
                ),
            )
            try:
                backend = "sqlite" if settings.is_sqlite else "postgresql"
                batch = batch or CHUNKS[backend]
                result: dict[str, Any] = {
                    "backend": backend,
                    "users": users,
                    "batch": batch,
                }
                for name in paths:
                    cohort = await _seed(database, users, name)
                    result[name] = await _run(units, database, cohort, batch, SENDS[name])
            finally:
                await database.dispose()
    if "per_user" in result and "set_based" in result:
        speeds = result["set_based"]["rows_per_second"], result["per_user"]["rows_per_second"]
        result["ratio"] = round(speeds[0] / speeds[1], 1)
    return result


async def _run(
    units: UnitOfWorkFactory, database: Database, cohort: list[int], batch: int, send: Send
) -> dict[str, Any]:
    batches: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(cohort), batch):
        began = time.perf_counter()
        async with units.writer() as uow:
            await send(uow, cohort[start : start + batch])
            await uow.commit()
        batches.append(time.perf_counter() - began)
    seconds = time.perf_counter() - started
    async with database.reader() as session:
        # A cohort's ids are one contiguous run (seeded together): a range, not an IN
        # list, which PostgreSQL caps at 32,767 parameters.
        mine = Notification.user_id.between(cohort[0], cohort[-1])
        notifications = await session.scalar(select(func.count()).where(mine))
        deliveries = await session.scalar(
            select(func.count()).select_from(PushDelivery).join(Notification).where(mine)
        )
    rows = int(notifications or 0) + int(deliveries or 0)
    return {
        "seconds": round(seconds, 3),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "batch_ms_median": round(statistics.median(batches) * 1000, 1),
        "batch_ms_max": round(max(batches) * 1000, 1),
    }


async def _seed(database: Database, n: int, tag: str) -> list[int]:
    """`n` vendors with one (unmuted) subscription each; their ids in order."""
    ids: list[int] = []
    async with database.writer() as session:
        for start in range(0, n, 5000):
            chunk = list(
                await session.scalars(
                    insert(User).returning(User.id, sort_by_parameter_order=True),
                    [
                        {
                            "email": f"{tag}{i}@bench.invalid",
                            "name": f"Vendor {i}",
                            "role": "vendor",
                            "password_hash": "!",
                        }
                        for i in range(start, min(n, start + 5000))
                    ],
                )
            )
            await session.execute(
                insert(PushSubscription),
                [
                    {
                        "user_id": uid,
                        "endpoint": f"http://127.0.0.1:9/{tag}/{uid}",
                        "p256dh": "BPx",
                        "auth": "a",
                        "vapid_key_id": "k",
                        "muted": False,
                    }
                    for uid in chunk
                ],
            )
            ids += chunk
        await session.commit()
    return ids


@asynccontextmanager
async def _fresh_database(url: str, tmp: Path) -> AsyncIterator[Settings]:
    """Settings on a new, migrated database; a PostgreSQL one is dropped on exit."""
    created = ""
    if url.startswith("sqlite"):
        fresh = f"sqlite+aiosqlite:///{tmp / 'fanout.db'}"
    else:
        created = f"vendorbell_fanout_{uuid.uuid4().hex[:8]}"
        await _admin(url, f'CREATE DATABASE "{created}"')
        fresh = make_url(url).set(database=created).render_as_string(hide_password=False)
    settings = Settings(
        _env_file=None,
        database_url=fresh,
        data_dir=tmp / "data",
        keys_dir=tmp / "keys",
        secret_key="bench-secret-key-" + "x" * 32,
        public_url="https://vendorbell.example",
        redis_url=None,
        run_worker=False,
        log_level="WARNING",
    )
    try:
        await asyncio.to_thread(upgrade, settings)  # Alembic runs its own event loop
        yield settings
    finally:
        if created:
            await _admin(url, f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--database-url", default=PG_DEFAULT)
    parser.add_argument("--batch", type=int, nargs="+", default=[None])
    parser.add_argument("--paths", nargs="+", choices=list(SENDS), default=list(SENDS))
    args = parser.parse_args()
    for batch in args.batch:
        result = asyncio.run(
            measure_enqueue(args.database_url, args.users, batch=batch, paths=args.paths)
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
