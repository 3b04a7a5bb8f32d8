"""`GET/PUT /api/preferences`, per-device mute, and the digest loop's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from server.deps import CurrentUser, SessionDep
from server.preferences import digest, service
from server.preferences.schemas import DeviceMuteIn, DeviceMuteOut, PreferencesIO


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the quiet-hours digest release loop for as long as the app runs."""
    task = asyncio.create_task(digest.run_release_loop(app.state.db))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(tags=["preferences"], lifespan=lifespan)


@router.get("/api/preferences", response_model=PreferencesIO)
async def get_preferences(session: SessionDep, user: CurrentUser) -> PreferencesIO:
    return service.to_schema(await service.load(session, user.id))


@router.put("/api/preferences", response_model=PreferencesIO)
async def put_preferences(
    body: PreferencesIO, session: SessionDep, user: CurrentUser
) -> PreferencesIO:
    return service.to_schema(await service.save(session, user.id, body))


@router.patch("/api/push/subscriptions/{subscription_id}", response_model=DeviceMuteOut)
async def mute_device(
    subscription_id: str, body: DeviceMuteIn, session: SessionDep, user: CurrentUser
) -> DeviceMuteOut:
    """A muted device gets no pushes (the outbox skips it); the others still do."""
    key = await service.set_device_muted(session, user.id, subscription_id, body.muted)
    return DeviceMuteOut(id=str(key), muted=body.muted)
