"""Per-user notification preferences, and pushes held back during quiet hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, utcnow


class UserPreferences(Base):
    """One row per user who changed anything; absent means the defaults."""

    __tablename__ = "user_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # {"payment": {"push": false, "inbox": true}, …}: types not listed use the defaults.
    types: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quiet_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Local wall-clock minutes after midnight in `time_zone`.
    quiet_start: Mapped[int] = mapped_column(Integer, default=22 * 60)
    quiet_end: Mapped[int] = mapped_column(Integer, default=7 * 60)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # New orders still ring during quiet hours (a vendor's livelihood).
    orders_ring: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # A pending order's reminders (server.orders.alerts): spacing in seconds (0 off), count.
    order_repeat_seconds: Mapped[int] = mapped_column(
        Integer, default=120, server_default=text("120")
    )
    order_max_repeats: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class HeldPush(Base):
    """A push not sent because it arrived in quiet hours; released as a digest."""

    __tablename__ = "held_pushes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
