"""Admin endpoints: broadcasts (integration keys live in server.integrations.routes)."""

from __future__ import annotations

from fastapi import APIRouter, status

from server.accounts.deps import CurrentAdmin, SessionDep, UnitOfWorkDep
from server.admin import broadcasts
from server.admin.schemas import BroadcastIn, BroadcastOut

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/broadcasts", response_model=BroadcastOut, status_code=status.HTTP_202_ACCEPTED)
async def create_broadcast(
    body: BroadcastIn, uow: UnitOfWorkDep, admin: CurrentAdmin
) -> BroadcastOut:
    broadcast = await broadcasts.create(uow, admin, body)
    return BroadcastOut.model_validate(broadcast)


@router.get("/broadcasts", response_model=list[BroadcastOut])
async def list_broadcasts(session: SessionDep, admin: CurrentAdmin) -> list[BroadcastOut]:
    return await broadcasts.recent(session)


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastOut)
async def get_broadcast(
    broadcast_id: str, session: SessionDep, admin: CurrentAdmin
) -> BroadcastOut:
    return await broadcasts.progress(session, broadcast_id)


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=BroadcastOut)
async def cancel_broadcast(
    broadcast_id: str, uow: UnitOfWorkDep, admin: CurrentAdmin
) -> BroadcastOut:
    """Stop a queued or sending broadcast before its next chunk; the chunks already
    committed stay delivered. A done or cancelled one is a 409 `broadcast_finished`."""
    return await broadcasts.cancel(uow, broadcast_id)
