"""The email outbox: one row per message, claimed and sent by the mail loop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, partial_index, utcnow

EMAIL_STATES = ("queued", "sent", "failed")


class OutgoingEmail(Base):
    """One email to one recipient, written in the transaction that decided to send it."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        # A reason sends at most once per order: queueing it again inserts nothing. Rows
        # without an order (NULL) are never equal, so they are not limited by this.
        UniqueConstraint("order_id", "reason", name="uq_email_outbox_order_id_reason"),
        # The mail loop's claim: due queued rows, oldest first.
        partial_index("ix_email_outbox_due", "due_at", where="status = 'queued'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Kept across retries, so a receiver can tell a resent message from a new one.
    message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
