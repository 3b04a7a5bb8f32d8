"""What the vendor's order page shows of how the order reached them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from server.mail.schemas import EmailOut


class OrderAlertsOut(BaseModel):
    """How a new order rang the vendor: devices, reminders, fallback emails, the answer.

    For the order's vendor only (it names their devices' reach and their emails); the
    customer, and order lists, get `alerts: null`.
    """

    devices_rung: int = Field(
        description="Devices the new-order push or a reminder was sent to, each counted once "
        "(a device removed since counts once per push it was sent)."
    )
    devices_reached: int = Field(
        description="Of those, the devices whose push service accepted at least one of them."
    )
    reminders_sent: int = Field(
        description="Reminders rung while the order was pending (0 when reminders are off)."
    )
    emails: list[EmailOut] = Field(
        description="The order's fallback emails, oldest first: `no_device` (no device to "
        "ring), `push_failed` (every push failed), `unanswered` (still pending after the "
        "reminders)."
    )
    answered_at: datetime | None = Field(
        description="When the order left `pending` (accepted, rejected or cancelled); null "
        "while it waits."
    )
