"""Broadcasts: one system notification to everyone in an audience."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, utcnow

AUDIENCES = ("vendors", "customers", "all")
# "cancelled": an admin stopped it between two chunks; the chunks before stay sent.
STATES = ("queued", "sending", "done", "cancelled")
FINISHED = ("done", "cancelled")


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500))
    audience: Mapped[str] = mapped_column(String(16))
    # The language the admin wrote it in (theirs): every recipient's push says so.
    lang: Mapped[str] = mapped_column(String(16), default="en", server_default=text("'en'"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # notifications written
    # Progress in users of the audience: how many there are (counted when it is made, and
    # grown by those who sign up while it runs) and how many the fan-out has walked past,
    # whether or not their preferences took the notification.
    recipients_total: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    recipients_done: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Fan-out resumes after this user id (chunks commit with it: none sent twice).
    last_user_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BroadcastNotification(Base):
    """Which notifications a broadcast made: its progress is their deliveries."""

    __tablename__ = "broadcast_notifications"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
