"""The inbox: list, count, mark read or seen, and service-worker events."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from server.accounts.deps import CurrentUser, UnitOfWorkDep
from server.notifications import inbox, service
from server.notifications.inbox_wire import list_page_json
from server.notifications.schemas import (
    CountsOut,
    EventIn,
    NotificationOut,
    NotificationPage,
    NotificationType,
    PushOutcome,
    ReceiptIn,
    UpdatedOut,
)
from server.push.outbox import outcomes_for

router = APIRouter(prefix="/api/notifications", tags=["inbox"])


@router.get("", response_model=NotificationPage)
async def list_notifications(
    uow: UnitOfWorkDep,  # not SessionDep: one dependency less to solve per request
    user: CurrentUser,
    status_: Annotated[Literal["unread", "read", "all"], Query(alias="status")] = "all",
    type_: Annotated[NotificationType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> NotificationPage:
    body = await list_page_json(
        uow.session, user.id, status=status_, type=type_, limit=limit, cursor=cursor
    )
    # Built from each row's stored JSON (server.notifications.inbox_wire): no pydantic
    # objects, so the declared model is the documentation and the tests' reference.
    return Response(body, media_type="application/json")  # type: ignore[return-value]


@router.get("/count", response_model=CountsOut)
async def count(uow: UnitOfWorkDep, user: CurrentUser) -> CountsOut:
    counts = await inbox.cached_counts(uow, user.id)
    return CountsOut(unread=counts.unread, unseen=counts.unseen, by_type=counts.by_type)


@router.post("/mark-all-seen", response_model=UpdatedOut)
async def mark_all_seen(uow: UnitOfWorkDep, user: CurrentUser) -> UpdatedOut:
    """Their devices hear the new counts only if it changed anything."""
    updated = await inbox.mark_all_seen(uow.session, user.id)
    if updated:
        await service.publish_counts(uow, user.id)
    return UpdatedOut(updated=updated)


@router.post("/mark-all-read", response_model=UpdatedOut)
async def mark_all_read(uow: UnitOfWorkDep, user: CurrentUser) -> UpdatedOut:
    return UpdatedOut(updated=await service.read_all(uow, user.id))


@router.post("/{notification_id}/read", response_model=NotificationOut)
async def mark_read(notification_id: str, uow: UnitOfWorkDep, user: CurrentUser) -> NotificationOut:
    notification = await service.read(uow, user.id, notification_id)
    outcome = (await outcomes_for(uow.session, [notification.id]))[notification.id]
    return NotificationOut.model_validate(notification).model_copy(
        update={"push": PushOutcome(**outcome)}
    )


@router.post("/{notification_id}/events", status_code=status.HTTP_204_NO_CONTENT)
async def record_event(
    notification_id: str, body: EventIn, uow: UnitOfWorkDep, user: CurrentUser
) -> Response:
    await service.record_receipt(uow, user.id, notification_id, body.event)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/receipts",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": ReceiptIn.model_json_schema()}},
        }
    },
)
async def record_receipt(request: Request, uow: UnitOfWorkDep) -> Response:
    """`shown` / `clicked` from a service worker that has no session (the embed snippet on
    a marketplace's origin): the push's receipt token is the authority. The body is JSON
    sent as text/plain, a simple request: no preflight, no cookie."""
    body = await _receipt(request)
    secret: str = request.app.state.secret_key
    notification = await inbox.get_by_receipt(uow.session, secret, body.notification, body.receipt)
    if await inbox.record_event(uow.session, notification, body.event):
        await service.publish_counts(uow, notification.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _receipt(request: Request) -> ReceiptIn:
    try:
        return ReceiptIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
