"""Inbox bodies: a notification as clients see it, counts, read events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.core.ids import ID
from server.notifications.types import KindName

NotificationType = KindName  # a declared type (server.notifications.types)


class PushOutcome(BaseModel):
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    expired: int = 0


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    type: str
    event: str
    title: str
    body: str
    url: str
    data: dict[str, Any]
    lang: str = Field(description="The language title and body are written in (`de`).")
    created_at: datetime
    seen_at: datetime | None
    read_at: datetime | None
    push: PushOutcome = Field(default_factory=PushOutcome)


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class CountsOut(BaseModel):
    unread: int
    unseen: int
    by_type: dict[str, int]


class UpdatedOut(BaseModel):
    updated: int


class ReceiptIn(BaseModel):
    """A report from a worker without a session: the push's receipt token vouches for it."""

    model_config = ConfigDict(extra="forbid")

    notification: str = Field(max_length=32)
    event: Literal["shown", "clicked"]
    receipt: str = Field(max_length=64)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "closed" comes from service workers installed before it was dropped: accepted, ignored.
    event: Literal["shown", "clicked", "closed"]
