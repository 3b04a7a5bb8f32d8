"""`POST /api/events` for shops, and `/api/admin/integration-keys` for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from server.accounts.deps import CurrentAdmin, SessionDep, UnitOfWorkDep
from server.integrations import events, keys, signature
from server.integrations.schemas import EventOut, KeyIn, KeyOut, NewKeyOut

router = APIRouter(tags=["integrations"])


@router.post(
    "/api/events",
    response_model=EventOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EventOut, "description": "already received (same id and body)"}},
)
async def receive_event(request: Request, response: Response, uow: UnitOfWorkDep) -> EventOut:
    """Signed with the key's secret over `<timestamp>.<raw body>` (see docs/integrations.md)."""
    body = await request.body()
    key = await events.authenticate(
        uow.session,
        request.app.state.secret_key,
        request.headers.get(signature.KEY_HEADER),
        request.headers.get(signature.SIGNATURE_HEADER),
        body,
    )
    answer, created = await events.receive(uow, key, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return answer


@router.post(
    "/api/admin/integration-keys", response_model=NewKeyOut, status_code=status.HTTP_201_CREATED
)
async def create_key(
    body: KeyIn, request: Request, session: SessionDep, admin: CurrentAdmin
) -> NewKeyOut:
    key, secret = await keys.issue(session, request.app.state.secret_key, body.name)
    return NewKeyOut(**KeyOut.model_validate(key).model_dump(), secret=secret)


@router.get("/api/admin/integration-keys", response_model=list[KeyOut])
async def list_keys(session: SessionDep, admin: CurrentAdmin) -> list[KeyOut]:
    return [KeyOut.model_validate(k) for k in await keys.list_keys(session)]


@router.delete("/api/admin/integration-keys/{key_ref}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_ref: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    await keys.revoke(session, key_ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
