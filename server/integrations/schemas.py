"""Integration event and key bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.core.ids import ID
from server.core.text import Line64, Line200, Name, Text1000
from server.notifications.links import AppPath

EventType = Literal[
    "order.created", "order.cancelled", "payment.received", "message.created", "system.notice"
]


class EventData(BaseModel):
    """What the shop knows about the event; every field optional, unknown ones ignored."""

    model_config = ConfigDict(extra="ignore")

    order_ref: Line64 | None = None  # the shop's order number
    customer: Name | None = None
    total_cents: int | None = Field(default=None, ge=0, le=10**12)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    title: Line200 | None = None  # system.notice
    text: Text1000 | None = None  # message / notice body
    url: AppPath | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128)  # the shop's event id: idempotency key
    type: EventType
    vendor: str = Field(min_length=1, max_length=320)  # vendor id (as /api/vendors) or email
    data: EventData = Field(default_factory=EventData)


class EventOut(BaseModel):
    id: str  # the shop's event id
    status: Literal["accepted", "duplicate"]
    notification_id: ID | None


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    key_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewKeyOut(KeyOut):
    secret: str  # shown once, never again
