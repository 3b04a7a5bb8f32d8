"""The delivery worker: retries until the TTL, releases its rows when stopped,
and shares the queue with other workers on PostgreSQL without double sends."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from server.core.config import Settings
from server.core.db import make_database, utcnow
from server.push import claims as claims_module
from server.push.keys import KeyStore
from server.push.models import PushDelivery
from server.push.outcomes import backoff
from server.push.worker import DeliveryWorker
from tests.conftest import make_settings
from tests.push.rows import queue_deliveries, statuses
from tests.pushservice import PushService


async def wait_until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    assert backoff(1, 30.0) == 30.0
    first, later = backoff(1, None), backoff(6, None)
    assert 1.0 <= first <= 2.0
    assert 32.0 <= later <= 64.0
    assert len({backoff(6, None) for _ in range(20)}) > 1


async def test_a_message_whose_ttl_runs_out_while_retrying_expires(
    settings: Settings, push_service: PushService
) -> None:
    keys = KeyStore.load_or_create(settings)
    await queue_deliveries(settings, push_service, keys.current.kid, total=1, devices=1, ttl=3)
    [device] = push_service.devices.values()
    push_service.always(device, 503)
    database = make_database(settings)
    worker = DeliveryWorker(database, settings, keys, poll_seconds=0.05)
    await worker.start()
    try:
        await wait_until(lambda: _is(settings, {"expired": 1}))
    finally:
        await worker.stop()
        await database.dispose()
    assert 1 <= push_service.requests[device.token] <= 3
    assert push_service.received == []


async def _is(settings: Settings, expected: dict[str, int]) -> bool:
    return await statuses(settings) == expected


async def test_stopped_worker_releases_the_rows_it_holds(
    tmp_path: Path, database_url: str, push_service: PushService
) -> None:
    settings = make_settings(tmp_path, database_url, worker_concurrency=2, drain_seconds=0.2)
    keys = KeyStore.load_or_create(settings)
    await queue_deliveries(settings, push_service, keys.current.kid, total=10, devices=2)
    push_service.gate = asyncio.Event()  # the push service hangs: sends stay in flight
    database = make_database(settings)
    worker = DeliveryWorker(database, settings, keys)
    await worker.start()
    await wait_until(_requests_reach(push_service, 2))

    await worker.stop()  # what SIGTERM does in `python -m server worker`

    async with database.reader() as session:
        rows = (await session.execute(select(PushDelivery))).scalars().all()
    assert {(r.status, r.leased_by) for r in rows} == {("queued", None)}
    assert all(r.due_at <= utcnow() for r in rows)

    push_service.gate.set()
    successor = DeliveryWorker(database, settings, keys, poll_seconds=0.05)
    await successor.start()
    try:
        await push_service.wait_for(10)
        await wait_until(lambda: _is(settings, {"delivered": 10}))
    finally:
        await successor.stop()
        await database.dispose()


def _requests_reach(service: PushService, count: int):  # type: ignore[no-untyped-def]
    async def reached() -> bool:
        return sum(service.requests.values()) >= count

    return reached


async def test_postgres_workers_share_the_queue_without_double_sends(
    settings: Settings, push_service: PushService
) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite runs a single worker")
    keys = KeyStore.load_or_create(settings)
    await queue_deliveries(settings, push_service, keys.current.kid, total=600, devices=10)
    databases = [make_database(settings) for _ in range(3)]
    workers = [DeliveryWorker(db, settings, keys, poll_seconds=0.05) for db in databases]
    for worker in workers:
        await worker.start()
    try:
        await push_service.wait_for(600, timeout=60)
        await wait_until(lambda: _is(settings, {"delivered": 600}))
    finally:
        for worker in workers:
            await worker.stop()
        for db in databases:
            await db.dispose()
    seqs = Counter(r.json["seq"] for r in push_service.received)
    assert len(seqs) == 600 and max(seqs.values()) == 1


def test_the_sqlite_claim_sql_returns_the_job_columns_in_order() -> None:
    for claim in (claims_module._SQLITE_CLAIM, claims_module._SQLITE_CLAIM_IDS):
        returning = claim.split("RETURNING", 1)[1]
        assert [c.strip() for c in returning.split(",")] == list(claims_module.JOB_COLUMNS)
    selected = claims_module._SQLITE_SUBSCRIPTIONS.split("SELECT", 1)[1].split(" FROM ")[0]
    expected = ["id", *claims_module.SUBSCRIPTION_COLUMNS]
    assert [c.strip() for c in selected.split(",")] == expected


async def test_sqlite_claim_times_match_stored_ones_to_the_microsecond(
    tmp_path: Path, sqlite_template: Path, push_service: PushService
) -> None:
    shutil.copy(sqlite_template, tmp_path / "claim.db")  # the hand-written claim is SQLite's
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'claim.db'}")
    keys = KeyStore.load_or_create(settings)
    await queue_deliveries(settings, push_service, keys.current.kid, total=1, devices=1)
    database = make_database(settings)
    try:
        async with database.reader() as session:
            row = (await session.execute(select(PushDelivery))).scalar_one()
            stored = await (await session.connection()).exec_driver_sql(
                "SELECT due_at, expires_at FROM push_deliveries"
            )
            due_text, expires_text = stored.one()
        # Compared as text in SQL: the claim's parameters must be written the same way.
        assert claims_module._sqlite_time(row.due_at) == due_text
        assert claims_module._from_sqlite(expires_text) == row.expires_at
        worker = DeliveryWorker(database, settings, keys)
        [job] = await worker.claim(10)  # the claim's text times round-trip exactly
        [device] = push_service.devices.values()
        assert (job.id, job.created_at, job.expires_at) == (row.id, row.created_at, row.expires_at)
        assert job.endpoint == device.endpoint
    finally:
        await database.dispose()
