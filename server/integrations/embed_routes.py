"""`/api/embed/session`: a marketplace's page exchanges its signed token for a session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from server.accounts.deps import CurrentUser, UnitOfWorkDep, bearer_token
from server.accounts.service import revoke_token
from server.integrations import embed
from server.integrations.schemas import EmbedCountsOut, EmbedSessionOut, EmbedUserOut

router = APIRouter(prefix="/api/embed", tags=["embed"])


@router.post("/session", response_model=EmbedSessionOut, status_code=status.HTTP_201_CREATED)
async def start_session(request: Request, uow: UnitOfWorkDep) -> EmbedSessionOut:
    """Send `Authorization: Bearer <the marketplace's JWT>` from a registered Origin
    (docs/embedding.md). The answer's token is a bearer token bound to that Origin."""
    started = await embed.start_session(
        uow,
        request.app.state.secret_key,
        bearer_token(request) or "",
        request.headers.get("origin"),
        user_agent=request.headers.get("user-agent"),
        client_address=request.client.host if request.client else None,
    )
    user = started.user
    return EmbedSessionOut(
        token=started.token,
        expires_at=started.expires_at,
        user=EmbedUserOut(id=user.id, name=user.name, locale=user.locale),
        counts=EmbedCountsOut(unread=started.counts.unread, unseen=started.counts.unseen),
        vapid_public_key=request.app.state.keys.current.public_key,
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(request: Request, uow: UnitOfWorkDep, user: CurrentUser) -> Response:
    """End the session whose token is sent (its live sockets close)."""
    await revoke_token(uow, user, request.state.token, request.app.state.secret_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
