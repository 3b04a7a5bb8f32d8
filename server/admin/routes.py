"""Admin endpoints: broadcasts (integration keys live in server.integrations.routes)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI, Request, status

from server.admin import broadcasts
from server.admin.schemas import BroadcastIn, BroadcastOut
from server.deps import CurrentAdmin, SessionDep


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if app.state.settings.run_worker:
        await broadcasts.resume_unfinished(app.state.db)
    try:
        yield
    finally:
        await broadcasts.stop_all()


router = APIRouter(prefix="/api/admin", tags=["admin"], lifespan=lifespan)


@router.post("/broadcasts", response_model=BroadcastOut, status_code=status.HTTP_202_ACCEPTED)
async def create_broadcast(
    body: BroadcastIn, request: Request, session: SessionDep, admin: CurrentAdmin
) -> BroadcastOut:
    broadcast = await broadcasts.create(session, request.app.state.db, admin, body)
    return BroadcastOut.model_validate(broadcast)


@router.get("/broadcasts", response_model=list[BroadcastOut])
async def list_broadcasts(session: SessionDep, admin: CurrentAdmin) -> list[BroadcastOut]:
    return await broadcasts.recent(session)


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastOut)
async def get_broadcast(
    broadcast_id: str, session: SessionDep, admin: CurrentAdmin
) -> BroadcastOut:
    return await broadcasts.progress(session, broadcast_id)
