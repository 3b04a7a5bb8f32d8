"""Noticing that every push of a new order failed, as outcomes are recorded."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.alerts.models import OrderReminder
from server.push.models import PushDelivery

REMINDERS: Table = OrderReminder.__table__  # type: ignore[assignment]
DELIVERIES: Table = PushDelivery.__table__  # type: ignore[assignment]


async def note_failed_pushes(session: AsyncSession, settled_ids: Collection[int]) -> None:
    """`settled_ids` just failed or expired: flag each pending order whose pushes have
    all failed or expired now (none delivered, none still queued), for the reminder loop
    to email the vendor ("push_failed"). One UPDATE for the batch, in the transaction
    that records the outcomes; it looks only at the orders of these deliveries, through
    the (notification_id, status) index, and only pending orders have active rows.
    """
    if not settled_ids:
        return
    r, d = REMINDERS, DELIVERIES
    others = DELIVERIES.alias("others")
    hopeful = (
        select(others.c.id)
        .where(
            others.c.notification_id == r.c.notification_id,
            others.c.status.in_(("queued", "delivered")),
        )
        .exists()
    )
    await session.execute(
        update(r)
        .where(
            r.c.status == "active",
            r.c.push_failed.is_(False),
            r.c.notification_id.in_(select(d.c.notification_id).where(d.c.id.in_(settled_ids))),
            ~hopeful,
        )
        .values(push_failed=True)
    )
