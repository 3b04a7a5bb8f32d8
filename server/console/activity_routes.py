"""The console's Activity: GET /api/admin/activity (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from server.accounts.deps import CurrentAdmin, UnitOfWorkDep
from server.console import activity
from server.console.activity_schemas import ActivityOut
from server.core.languages import language
from server.notifications.schemas import NotificationType

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/activity", response_model=ActivityOut)
async def read_activity(
    uow: UnitOfWorkDep,
    admin: CurrentAdmin,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=320,
            # No control characters: PostgreSQL refuses a NUL in text (a 500, not a 422).
            pattern=r"^[^\x00-\x1f\x7f]+$",
            description="A user: id, email, marketplace `sub`, or part of a name or email.",
        ),
    ] = None,
    notification: Annotated[
        str | None, Query(max_length=20, description="A notification id.")
    ] = None,
    order: Annotated[str | None, Query(max_length=20, description="An order id.")] = None,
    failed_only: Annotated[
        bool, Query(description="Only notifications with a failed push or email.")
    ] = False,
    type_: Annotated[NotificationType | None, Query(alias="type")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Created before (ISO 8601).")] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    tz: Annotated[
        str, Query(max_length=64, description="The IANA time zone the sentences' times are in.")
    ] = "UTC",
) -> ActivityOut:
    """Why did a user (not) hear about a notification: per notification, newest first,
    a sentence in the admin's language and the timeline of stored facts behind it
    (preferences' decision, each device's push, reminders, emails, receipts, webhooks).

    404 `user_not_found`, `notification_not_found` or `order_not_found` for what does
    not exist; 422 `search_required` (none of q, notification, order), `invalid_id`,
    `invalid_range`, `invalid_cursor` or `invalid_time_zone`."""
    search = activity.Search(
        q=q,
        notification=notification,
        order=order,
        failed_only=failed_only,
        type=type_,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    zone = activity.time_zone(tz)
    return await activity.search(uow, search, language(admin.locale), zone)
