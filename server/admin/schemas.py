"""Broadcast bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.accounts.schemas import LocaleCode
from server.core.ids import ID
from server.core.text import Line200, Text2000
from server.notifications.links import AppPath
from server.notifications.schemas import PushOutcome


class BroadcastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line200
    body: Text2000
    # A PWA path ("/notifications"); absolute push URLs are built from PUBLIC_URL.
    url: AppPath = "/notifications"
    audience: Literal["vendors", "customers", "all"]
    # What title and body are written in (each push is marked so, and the reader's
    # browser reads it out in that language); left out, the admin's own.
    lang: LocaleCode | None = None


class BroadcastOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    title: str
    body: str
    url: str
    audience: str
    status: Literal["queued", "sending", "done", "cancelled"]
    # The language title and body are in (their admin's): every push is marked so.
    lang: str
    recipients: int = Field(
        description="Notifications written so far (users who switched system notices off get none)."
    )
    recipients_total: int = Field(
        description="Users in the audience: counted when it was made, grown by sign-ups since."
    )
    recipients_done: int = Field(
        description="Users of the audience the fan-out has walked past, chunk by chunk."
    )
    created_at: datetime
    finished_at: datetime | None = Field(description="When it was done, or cancelled.")
    push: PushOutcome = Field(default_factory=PushOutcome)
