"""`GET/PUT /api/preferences`: channels per type and quiet hours."""

from __future__ import annotations

from fastapi import APIRouter

from server.accounts.deps import CurrentUser, UnitOfWorkDep
from server.notifications.preferences import service
from server.notifications.preferences.schemas import PreferencesIO

router = APIRouter(tags=["preferences"])


@router.get("/api/preferences", response_model=PreferencesIO)
async def get_preferences(uow: UnitOfWorkDep, user: CurrentUser) -> PreferencesIO:
    return service.to_schema(await service.load(uow, user.id), user.role)


@router.put("/api/preferences", response_model=PreferencesIO)
async def put_preferences(
    body: PreferencesIO, uow: UnitOfWorkDep, user: CurrentUser
) -> PreferencesIO:
    return service.to_schema(await service.save(uow, user.id, user.role, body), user.role)
