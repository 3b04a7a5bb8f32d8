"""What the console's Activity answers: per notification, a sentence and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from server.core.ids import ID

EventKind = Literal[
    "created", "decision", "held", "push", "reminder", "digest", "update", "email", "receipt",
    "webhook",
]  # fmt: skip


class ActivityDeviceOut(BaseModel):
    """The device a push went to, as far as it is still known."""

    id: ID | None = Field(description="The subscription's id; null once it was deleted.")
    known: bool = Field(
        description="False when the subscription was deleted (a 404/410 prunes it, or its "
        "user removed it): its label and push service were not kept."
    )
    label: str | None
    service: str | None = Field(description="The push service's host, e.g. fcm.googleapis.com.")
    muted: bool | None


class TimelineEventOut(BaseModel):
    """One stored fact about the notification, worded in the admin's language."""

    at: datetime | None = Field(description="When it happened; null when that is not stored.")
    kind: EventKind
    status: str | None = Field(
        description="The row's state: queued, delivered, failed, expired (pushes); queued, "
        "sent, failed (emails); active, done (reminders); shown, clicked, read (receipts)."
    )
    text: str = Field(description="The fact in one line, in the admin's language.")
    device: ActivityDeviceOut | None = None
    attempts: int | None = None
    status_code: int | None = Field(default=None, description="The last HTTP status answered.")
    error: str | None = Field(default=None, description="The last error as stored (sanitized).")
    latency_ms: int | None = Field(
        default=None, description="From queueing to the push service's acceptance."
    )
    next_retry_at: datetime | None = None
    pruned: bool = Field(default=False, description="The device was removed after a 404/410.")


class NotificationActivityOut(BaseModel):
    id: ID
    user_id: ID
    type: str
    event: str
    title: str
    created_at: datetime
    failed: bool = Field(description="A push failed or expired, or an email failed.")
    sentence: str = Field(description="What became of it, in one sentence.")
    timeline: list[TimelineEventOut]


class UserMatchOut(BaseModel):
    id: ID
    name: str
    email: str
    role: str
    sub: str | None = Field(description="The marketplace's id for this vendor, if any.")
    shop_name: str | None


class ActivityOut(BaseModel):
    """Newest notifications first. When `q` matches several users, `items` is empty and
    `matches` lists them: ask again with one's id."""

    user: UserMatchOut | None
    matches: list[UserMatchOut]
    items: list[NotificationActivityOut]
    next_cursor: str | None
