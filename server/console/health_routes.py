"""The console's health endpoints (admin only): push services, queues and workers."""

from __future__ import annotations

from fastapi import APIRouter

from server.accounts.deps import CurrentAdmin, SessionDep, SettingsDep
from server.console import health
from server.console.health_schemas import PushServicesOut, QueuesOut
from server.core.db import utcnow

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/push-services", response_model=PushServicesOut)
async def push_services(
    session: SessionDep, settings: SettingsDep, admin: CurrentAdmin
) -> PushServicesOut:
    """Each push service over the last hour and day: POSTs, the share accepted, answer
    times, 429/5xx/timeouts, and its breaker in the live delivery workers."""
    return await health.push_services(session, settings)


@router.get("/queues", response_model=QueuesOut)
async def queues(session: SessionDep, settings: SettingsDep, admin: CurrentAdmin) -> QueuesOut:
    """The push, email and webhook outboxes (pending, in flight, delayed, the oldest
    pending item's age, stuck or not) and the workers' heartbeats."""
    now = utcnow()
    return QueuesOut(
        generated_at=now,
        retention_days=settings.retention_days,
        stuck_after_seconds=health.STUCK_AFTER_SECONDS,
        queues=await health.queues(session, now),
        workers=await health.workers(session, now, settings),
    )
