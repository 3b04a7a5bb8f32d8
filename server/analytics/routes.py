"""`GET /api/analytics/summary?from=&to=`: the caller's engagement figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from server.accounts.deps import CurrentUser, SessionDep
from server.analytics import service
from server.analytics.schemas import SummaryOut
from server.core.db import utcnow

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


@router.get("/summary", response_model=SummaryOut)
async def summary(
    session: SessionDep,
    user: CurrentUser,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> SummaryOut:
    """Defaults to the last 7 days; `to` is exclusive; `by_day` uses local days in `tz`."""
    end = to or utcnow()
    start = from_ or end - timedelta(days=7)
    return await service.summary(session, user.id, start, end, tz)
