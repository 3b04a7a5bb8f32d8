"""`GET /healthz` (the process is up) and `GET /readyz` (it can serve: the database and,
with REDIS_URL, Redis answer; it is not shutting down), for load balancers and probes.

No authentication, never cached, and nothing in the answers beyond ok / failed per
check: why a check failed is logged, not served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from server.core.db import Database
from server.core.errors import ErrorOut
from server.ops.drain import Drain
from server.realtime.hub import Hub

log = logging.getLogger("vendorbell.health")

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT = 2.0  # seconds; a probe's own timeout is usually a few more
NO_STORE = {"Cache-Control": "no-store"}

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
    summary="The database (and Redis) answer and the process is not shutting down",
    responses={503: {"model": NotReadyOut, "description": "Not ready: send requests elsewhere"}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = await run_checks(state.db, state.hub, redis=bool(state.settings.redis_url))
    drain: Drain = state.drain
    if drain.draining:
        detail, code = "Shutting down: send requests elsewhere.", "shutting_down"
    elif failed := [name for name, result in checks.items() if result != "ok"]:
        detail, code = f"Not ready: {', '.join(failed)} unreachable.", "not_ready"
    else:
        return JSONResponse(ReadyOut(status="ok", checks=checks).model_dump(), headers=NO_STORE)
    body = NotReadyOut(detail=detail, code=code, checks=checks)
    return JSONResponse(body.model_dump(), status_code=503, headers=NO_STORE)


async def run_checks(database: Database, hub: Hub, *, redis: bool) -> dict[str, CheckResult]:
    """Each dependency's check, run together, each within CHECK_TIMEOUT."""
    names = ["database", *(["redis"] if redis else [])]
    results = await asyncio.gather(
        _check("database", _select_one(database)),
        *([_check("redis", hub.ping())] if redis else []),
    )
    return dict(zip(names, results, strict=True))


async def _select_one(database: Database) -> None:
    async with database.reader() as session:
        await session.execute(text("SELECT 1"))


async def _check(name: str, probe: Awaitable[None]) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe
    except Exception as exc:  # any failure, timeouts included, is "not ready"
        log.warning("health.check_failed", extra={"check": name, "error": repr(exc)})
        return "failed"
    return "ok"
