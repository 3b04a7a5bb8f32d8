"""Worker heartbeats: any process's /metrics tells how many workers are alive."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from server.background import Runtime
from server.core.db import utcnow
from server.ops.heartbeat import Beat, Heartbeat, WorkerHeartbeat, process_name, record_beat
from tests.conftest import make_settings
from tests.metrics.test_metrics import scrape

ALIVE = ("vendorbell_workers_alive", ())


def age_of(samples: dict[Any, float], worker: str) -> float | None:
    return samples.get(("vendorbell_worker_heartbeat_age_seconds", (("worker", worker),)))


async def test_an_api_process_reports_a_worker_process_alive_until_it_stops(
    tmp_path: Path, database_url: str, client: httpx.AsyncClient
) -> None:
    assert (await scrape(client))[ALIVE] == 0
    worker = Runtime(make_settings(tmp_path, database_url), "worker")
    await worker.start()
    try:
        samples = await scrape(client)  # the api process's /metrics, read from the table
        assert samples[ALIVE] == 1
        age = age_of(samples, process_name())
        assert age is not None and age < 5
    finally:
        await worker.stop()
    samples = await scrape(client)
    assert samples[ALIVE] == 0
    assert age_of(samples, process_name()) is None  # stopped cleanly: no longer listed


async def test_a_silent_worker_is_listed_with_its_age_but_not_alive(
    app: Any, client: httpx.AsyncClient
) -> None:
    long_ago = utcnow() - timedelta(minutes=2)  # 12 beats of 10 s
    async with app.state.db.writer() as session:
        await record_beat(session, Beat("gone:1", "worker", ["delivery"], long_ago, long_ago))
        await session.commit()
    samples = await scrape(client)
    assert samples[ALIVE] == 0
    age = age_of(samples, "gone:1")
    assert age is not None and 119 < age < 130


async def test_a_beat_forgets_workers_silent_for_sixty_beats(
    app: Any, client: httpx.AsyncClient
) -> None:
    database = app.state.db
    long_ago = utcnow() - timedelta(seconds=61)
    async with database.writer() as session:
        await record_beat(session, Beat("gone:1", "worker", ["delivery"], long_ago, long_ago))
        await session.commit()
    heartbeat = Heartbeat(database, "worker", ["delivery"], interval=1.0)
    await heartbeat.beat()
    async with database.reader() as session:
        names = set(await session.scalars(select(WorkerHeartbeat.name)))
    assert names == {process_name()}
    samples = await scrape(client)
    assert samples[ALIVE] == 1
    await heartbeat.stop()
    async with database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 0
