"""The engagement summary: the same figures in total, per type and per (local) day."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Figures(BaseModel):
    notifications: int = 0  # notifications created
    sent: int = 0  # push messages queued, one per device
    queued: int = 0  # …of which still waiting
    delivered: int = 0  # …accepted by the push service (201)
    failed: int = 0
    expired: int = 0
    reached: int = 0  # notifications with at least one delivered push
    shown: int = 0  # the service worker reported it shown
    clicked: int = 0
    read: int = 0
    ctr: float | None = None  # clicked / reached
    median_seconds_to_read: float | None = Field(
        default=None,
        description="Median seconds from a notification's creation to its reading, over the "
        "notifications read by opening them (POST /api/notifications/{id}/read, or a click "
        "on the push); those read by mark-all-read count in `read` but not here. Null when "
        "none was read that way.",
    )


class DayFigures(Figures):
    date: date


class OrderFigures(BaseModel):
    """How the caller's orders as a vendor, created in the range, were answered."""

    orders_received: int = Field(default=0, description="Orders created in the range.")
    orders_accepted: int = Field(
        default=0, description="Of those, orders accepted (whatever became of them since)."
    )
    median_seconds_to_accept: float | None = Field(
        default=None,
        description="Median seconds from an order's creation to its acceptance, over the "
        "accepted orders; null when none was accepted.",
    )
    orders_reminded: int = Field(default=0, description="Orders rung again at least once.")
    orders_emailed: int = Field(
        default=0, description="Orders with at least one fallback email sent to the vendor."
    )
    orders_never_accepted: int = Field(
        default=0,
        description="Orders that ended without being accepted: rejected, or cancelled "
        "before acceptance (orders accepted and later cancelled are not counted; orders "
        "still pending are `orders_waiting`).",
    )
    orders_waiting: int = Field(
        default=0, description="Orders still pending: not accepted yet, and not ended."
    )


class SummaryOut(OrderFigures):
    """Notification figures in total, per type and per day; order figures (at the top)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    tz: str  # the days of by_day are local days in this IANA zone
    totals: Figures
    by_type: dict[str, Figures]
    by_day: list[DayFigures]
