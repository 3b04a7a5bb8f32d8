"""Console benchmark: the operator's pages read a database holding 1M push deliveries.

    make bench-console                                   # PostgreSQL (the tests' database)
    make bench-console ARGS="--deliveries 200000"        # a smaller run

Seeds (COPY) 1,000 vendors with 3 devices each, half as many notifications as
deliveries (two devices answer each; every 50th push failed with a 410 and every 20th
was retried), one POST per delivery over the last day on three push services (counted
as the delivery worker counts them), and some queued rows. Then asks each console read
in turn, as an admin's browser would, through the app itself (the ASGI transport: no
network between), and prints p50/p99 per read beside GET /healthz served by the same
app in the same run (the peer: a request that reads nothing). The goal: p99 <= 100 ms
for every read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert

from bench.fanout import _fresh_database
from server.accounts.models import ApiToken, User
from server.accounts.security import token_digest
from server.app import create_app
from server.core.db import Database
from server.push.attempts import PERIOD_SECONDS, record_attempts
from server.push.models import PushSubscription
from server.push.sender import Outcome

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
VENDORS, DEVICES = 1_000, 3
SERVICES = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com")
GOAL_MS = 100.0


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def seed_accounts(
    database: Database, secret_key: str
) -> tuple[list[int], dict[int, list[int]], str]:
    """The vendors, their devices, and an admin's bearer token."""
    token = secrets.token_urlsafe(32)
    async with database.writer() as session:
        admin = User(email="admin@bench.invalid", name="Admin", role="admin", password_hash="!")
        session.add(admin)
        await session.flush()
        session.add(ApiToken(user_id=admin.id, token_hash=token_digest(secret_key, token)))
        vendors = list(
            await session.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [
                    {
                        "email": f"v{i}@bench.invalid",
                        "name": f"Vendor {i}",
                        "role": "vendor",
                        "password_hash": "!",
                    }
                    for i in range(VENDORS)
                ],
            )
        )
        devices: dict[int, list[int]] = {}
        for vendor in vendors:
            devices[vendor] = list(
                await session.scalars(
                    insert(PushSubscription).returning(PushSubscription.id),
                    [
                        {
                            "user_id": vendor,
                            "endpoint": f"https://{SERVICES[d]}/push/{vendor}-{d}",
                            "p256dh": "BPx",
                            "auth": "a",
                            "vapid_key_id": "k",
                            "muted": False,
                            "label": ("iPhone", "Pixel", "Laptop")[d],
                        }
                        for d in range(DEVICES)
                    ],
                )
            )
        await session.commit()
    return vendors, devices, token


def notification_rows(vendors: list[int], count: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    for i in range(count):
        created = now - timedelta(seconds=(count - i) * 86_400 / count)
        read = created if i % 3 else None
        yield (
            vendors[i % len(vendors)], "order", "order.created", f"New order #{i}",
            "2 items, €12.40", f"/orders/{i}", json.dumps({"order_id": str(i)}), "en",
            created, read, read,
        )  # fmt: skip


def delivery_rows(
    notifications: list[tuple[int, int, datetime]], devices: dict[int, list[int]]
) -> Iterator[tuple[Any, ...]]:
    for n, (notification_id, user_id, created) in enumerate(notifications):
        for d, device in enumerate(devices[user_id][:2]):
            k = 2 * n + d
            status, last = ("failed", 410) if k % 50 == 0 else ("delivered", 201)
            if k % 997 == 0:
                status, last = "queued", 503
            yield (
                notification_id, device, status, "{}", 86_400, "high", None,
                1 + (k % 20 == 0), created, created, created + timedelta(days=1), last,
            )  # fmt: skip


async def count_attempts(settings: Any, count: int, now: datetime) -> None:
    """`count` POSTs over the last day, counted as the delivery worker counts them
    (server.push.attempts.record_attempts), one call per five-minute period."""
    database = Database(settings.database_url)
    periods = 86_400 // PERIOD_SECONDS
    try:
        async with database.writer() as session:
            for p in range(periods):
                at = now - timedelta(seconds=(periods - p) * PERIOD_SECONDS)
                outcomes = []
                for k in range(p * count // periods, (p + 1) * count // periods):
                    status = 410 if k % 50 == 0 else 429 if k % 20 == 0 else 201
                    kind = {410: "gone", 429: "retry"}.get(status, "delivered")
                    service, seconds = SERVICES[k % len(SERVICES)], 0.02 + (k % 100) / 1000
                    outcomes.append(Outcome(kind, status, service=service, seconds=seconds))
                await record_attempts(session, outcomes, at)
            await session.commit()
    finally:
        await database.dispose()


async def seed(settings: Any, deliveries: int) -> tuple[int, int, str]:
    """Returns (a vendor id, one of its notification ids, the admin's token)."""
    database = Database(settings.database_url)
    vendors, devices, token = await seed_accounts(database, settings.resolved_secret_key())
    await database.dispose()
    now = datetime.now(UTC)
    connection = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        await connection.copy_records_to_table(
            "notifications",
            records=notification_rows(vendors, deliveries // 2, now),
            columns=["user_id", "type", "event", "title", "body", "url", "data", "lang",
                     "created_at", "seen_at", "read_at"],
        )  # fmt: skip
        written = [
            (r["id"], r["user_id"], r["created_at"])
            for r in await connection.fetch(
                "SELECT id, user_id, created_at FROM notifications ORDER BY id"
            )
        ]
        await connection.copy_records_to_table(
            "push_deliveries",
            records=delivery_rows(written, devices),
            columns=["notification_id", "subscription_id", "status", "payload", "ttl",
                     "urgency", "topic", "attempts", "created_at", "due_at", "expires_at",
                     "last_status"],
        )  # fmt: skip
        await count_attempts(settings, deliveries, now)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    vendor = vendors[len(vendors) // 2]
    notification = next(n for n, user, _ in reversed(written) if user == vendor)
    return vendor, notification, token


async def measure(settings: Any, reads: dict[str, str], token: str, rounds: int) -> dict[str, Any]:
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, path in {"peer: GET /healthz": "/healthz", **reads}.items():
                for _ in range(5):  # warm: caches, prepared statements, the planner
                    answer = await client.get(path, headers=headers)
                    assert answer.status_code == 200, (path, answer.status_code, answer.text)
                samples = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    await client.get(path, headers=headers)
                    samples.append((time.perf_counter() - start) * 1000)
                results[name] = {
                    "p50_ms": round(statistics.median(samples), 2),
                    "p99_ms": round(percentile(samples, 0.99), 2),
                }
    return results


async def run(database_url: str, deliveries: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="vb-console-") as tmp:
        async with _fresh_database(database_url, Path(tmp)) as settings:
            started = time.perf_counter()
            vendor, notification, token = await seed(settings, deliveries)
            print(f"seeded {deliveries:,} deliveries in {time.perf_counter() - started:.0f} s")
            reads = {
                "activity of a vendor": f"/api/admin/activity?q={vendor}",
                "activity of a vendor, failed only": (
                    f"/api/admin/activity?q={vendor}&failed_only=true"
                ),
                "activity of a notification": f"/api/admin/activity?notification={notification}",
                "activity by email": f"/api/admin/activity?q=v{VENDORS // 2}%40bench.invalid",
                "push services (hour, day)": "/api/admin/push-services",
                "queues and workers": "/api/admin/queues",
            }  # fmt: skip
            results = await measure(settings, reads, token, rounds)
    peer = results["peer: GET /healthz"]["p50_ms"]
    print(
        f"\n{'read':38} {'p50 ms':>8} {'p99 ms':>8} {'p50 / peer':>11}  goal p99 ≤ {GOAL_MS:.0f} ms"
    )
    for name, figures in results.items():
        ratio = figures["p50_ms"] / peer if peer else float("nan")
        ok = "" if name.startswith("peer") else ("ok" if figures["p99_ms"] <= GOAL_MS else "OVER")
        print(f"{name:38} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f} {ratio:10.1f}x  {ok}")
    print(json.dumps({"deliveries": deliveries, "rounds": rounds, "results": results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=PG_DEFAULT)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.deliveries, args.rounds))


if __name__ == "__main__":
    main()
