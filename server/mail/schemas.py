"""What an order's page may show of its emails."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

EmailReason = Literal["no_device", "push_failed", "unanswered"]


class EmailOut(BaseModel):
    """One fallback email of an order. For the vendor's eyes only: `last_error` may quote
    the SMTP server's reply, which can name the vendor's address."""

    reason: str
    status: Literal["queued", "sent", "failed"]
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
