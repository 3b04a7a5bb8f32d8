"""A pending order's reminders: one durable row per order, due at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, partial_index, utcnow


class OrderReminder(Base):
    """What still has to happen while an order (native or a shop's) waits in `pending`.

    Written with the order, in its transaction. Until `sent` reaches `max_repeats`, each
    due time rings the vendor's devices again; the due time after that is the check for
    the "unanswered" email, and the row is done. Leaving `pending` marks it done in the
    same transaction as the status change. The reminder loop claims due rows with a row
    lock inside the transaction that writes their pushes (server.orders.alerts.reminders),
    so the lock is the lease: a worker that dies rolls back and the row is due again.
    """

    __tablename__ = "order_reminders"
    __table_args__ = (
        # The loop's claim: due active rows. Active rows are the pending orders only.
        partial_index("ix_order_reminders_due", "next_due_at", where="status = 'active'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A native order's, or a marketplace's (server.orders.shop): exactly one of the two.
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    shop_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), unique=True
    )
    vendor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The order's `order.created` notification: reminders and state pushes are further
    # deliveries of it (no inbox rows of their own), and its `data.reminders` counts them.
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    # Taken from the vendor's preferences when the order arrived: an order rings the way
    # it was set up to, whatever is changed while it waits.
    every_seconds: Mapped[int] = mapped_column(Integer)
    max_repeats: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | done
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set by outcome recording when every push of the order so far failed or expired;
    # the loop then queues the "push_failed" email (it needs a unit of work to do so).
    push_failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
