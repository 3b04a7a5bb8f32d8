"""`GET /healthz` (the process is up) and `GET /readyz` (it can serve: the database
answers and takes writes, and this process's write requests are not failing; with
REDIS_URL, Redis answers; it is not shutting down), for load balancers and probes.

No authentication, never cached by HTTP caches, and nothing in the answers beyond ok /
failed per check: why a check failed is logged, not served. The checks' results are
reused for READY_CACHE_SECONDS, so a storm of probes costs one round of checks a second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import insert, text

from server.core.db import Database, utcnow
from server.core.errors import RETRY_AFTER_SECONDS, ErrorOut
from server.core.outages import WriteOutcomes
from server.ops.drain import Drain
from server.ops.heartbeat import WorkerHeartbeat, process_name
from server.realtime.hub import Hub

log = logging.getLogger("vendorbell.health")

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT = 2.0  # seconds; a probe's own timeout is usually a few more
READY_CACHE_SECONDS = 1.0
# What the disk probe writes beside a SQLite file: more than a commit adds to the WAL, so
# a disk too full for the next write is seen before the write fails.
PROBE_BYTES = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}
# The database is not ready while the last write request failed for an outage, this
# recently, and none succeeded since (server.core.outages.WriteOutcomes); a balancer that
# stopped sending meanwhile is let back once the window has passed and the checks pass.
WRITE_FAILURES_WITHIN = 5.0

CheckResult = Literal["ok", "failed"]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Every check passed."""

    status: Literal["ok"]
    checks: dict[str, CheckResult] = Field(
        description="`database`, and `redis` when REDIS_URL is set: `ok` or `failed`."
    )


class NotReadyOut(ErrorOut):
    """503: `code` is `not_ready` (a check failed) or `shutting_down` (draining)."""

    checks: dict[str, CheckResult] = Field(
        description="`database`, and `redis` when REDIS_URL is set: `ok` or `failed`."
    )


@router.get("/healthz", response_model=HealthOut, summary="The process is up (no I/O)")
async def healthz() -> JSONResponse:
    return JSONResponse(HealthOut(status="ok").model_dump(), headers=NO_STORE)


@router.get(
    "/readyz",
    response_model=ReadyOut,
    summary="The database answers and takes writes, Redis answers, not shutting down",
    responses={
        503: {
            "model": NotReadyOut,
            "description": "Not ready: send requests elsewhere",
            "headers": {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            },
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    readiness: Readiness = state.readiness
    checks = await readiness.checks(state.db, state.hub, redis=bool(state.settings.redis_url))
    outcomes: WriteOutcomes = state.write_outcomes
    if outcomes.failing(within=WRITE_FAILURES_WITHIN):
        checks = {**checks, "database": "failed"}
    drain: Drain = state.drain
    if drain.draining:
        detail, code = "Shutting down: send requests elsewhere.", "shutting_down"
    elif failed := [name for name, result in checks.items() if result != "ok"]:
        detail, code = f"Not ready: {', '.join(failed)} failed its check.", "not_ready"
    else:
        return JSONResponse(ReadyOut(status="ok", checks=checks).model_dump(), headers=NO_STORE)
    body = NotReadyOut(detail=detail, code=code, checks=checks)
    headers = {**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body.model_dump(), status_code=503, headers=headers)


class Readiness:
    """The last round of checks, reused for READY_CACHE_SECONDS; callers arriving while
    a round runs wait for it instead of starting their own."""

    def __init__(self) -> None:
        self._checks: dict[str, CheckResult] | None = None
        self._at = -math.inf
        self._lock = asyncio.Lock()

    async def checks(self, database: Database, hub: Hub, *, redis: bool) -> dict[str, CheckResult]:
        async with self._lock:
            if self._checks is None or time.monotonic() - self._at >= READY_CACHE_SECONDS:
                self._checks = await run_checks(database, hub, redis=redis)
                self._at = time.monotonic()
            return self._checks


async def run_checks(database: Database, hub: Hub, *, redis: bool) -> dict[str, CheckResult]:
    """Each dependency's check, run together, each within CHECK_TIMEOUT."""
    names = ["database", *(["redis"] if redis else [])]
    results = await asyncio.gather(
        _check("database", _database_serves(database)),
        *([_check("redis", hub.ping())] if redis else []),
    )
    return dict(zip(names, results, strict=True))


async def _database_serves(database: Database) -> None:
    """It answers a read, and takes a write: a database that answers SELECT 1 may still
    refuse every write (a full disk, a read-only file or standby, a lock held too long)."""
    async with database.reader() as session:
        await session.execute(text("SELECT 1"))
    if database.path is not None:
        await asyncio.to_thread(_reserve_disk_space, Path(database.path).parent)
    # A row inserted and rolled back: takes the write lock (SQLite's BEGIN IMMEDIATE),
    # needs a writable file or a primary, and leaves nothing behind.
    async with database.writer() as session:
        now = utcnow()
        probe = {"name": f"readyz:{process_name()}"[:64], "role": "readyz", "loops": ""}
        await session.execute(insert(WorkerHeartbeat).values(**probe, started_at=now, beat_at=now))
        await session.rollback()


def _reserve_disk_space(folder: Path) -> None:
    """Write and sync PROBE_BYTES in an unnamed file beside the database: fails (ENOSPC,
    EIO, EROFS) as SQLite's next write would on a full, failing or read-only disk."""
    with tempfile.TemporaryFile(dir=folder, prefix=".readyz-") as probe:
        probe.write(bytes(PROBE_BYTES))
        probe.flush()
        os.fsync(probe.fileno())


async def _check(name: str, probe: Awaitable[None]) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe
    except Exception as exc:  # any failure, timeouts included, is "not ready"
        log.warning("health.check_failed", extra={"check": name, "error": repr(exc)})
        return "failed"
    return "ok"
