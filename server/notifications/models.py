"""Notification rows: the inbox, and the source of every push and live event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, ForeignKey, Index, String, Text, inspect, text
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from server.core.db import Base, UTCDateTime, partial_index, utcnow
from server.notifications.types import KINDS
from server.notifications.wire import WIRE_FIELDS, wire_of

# The types declared at start (server.notifications.types reads a later one too).
TYPES = tuple(KINDS)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # Newest-first pages of one user's inbox (cursor = id).
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_type_id", "user_id", "type", "id"),
        # Unread counts by type and the unread list touch only unread rows.
        partial_index("ix_notifications_unread", "user_id", "type", "id", where="read_at IS NULL"),
        # The badge: unseen rows only.
        partial_index("ix_notifications_unseen", "user_id", where="seen_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The language title and body are written in (the push's `lang`).
    lang: Mapped[str] = mapped_column(String(16), default="en", server_default=text("'en'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Read by "mark all as read", not by opening it: no reading time (server.analytics).
    read_in_bulk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The answer's fields other than read/seen state and push outcome, as JSON rendered
    # when the row is written (server.notifications.wire) and again when one of them
    # changes (`_render_wire_again`); NULL for rows written before it, rendered on read.
    # Deferred: only the inbox's page reads it, and by column.
    wire: Mapped[str | None] = mapped_column(Text, deferred=True, deferred_raiseload=True)


@orm_event.listens_for(Notification, "before_update")
def _render_wire_again(_mapper: Mapper[Notification], _c: Connection, row: Notification) -> None:
    """`data` changes after creation (an order's reminder count and status: server.orders):
    every ORM update of a rendered field renders the wire again, in the same UPDATE. The
    inbox's own Core updates touch only read/seen state, which the wire leaves out."""
    attrs = inspect(row).attrs
    if any(attrs[field].history.has_changes() for field in WIRE_FIELDS):
        row.wire = wire_of(row)
