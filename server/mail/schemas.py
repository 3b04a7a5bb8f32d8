"""What an order's page may show of its emails."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

EmailReason = Literal["no_device", "push_failed", "unanswered"]


class EmailOut(BaseModel):
    """One fallback email of an order, for the vendor's eyes only. `last_error` is one
    plain sentence ("the mail server refused the message", "could not reach the mail
    server", ...): the server's own reply stays in the logs."""

    reason: str
    status: Literal["queued", "sent", "failed"]
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
