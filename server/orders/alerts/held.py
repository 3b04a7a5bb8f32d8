"""Reminders held in quiet hours, and the digest that ends them.

Quiet hours that hold new orders hold their reminders too (server.orders.alerts.reminders),
and the order waits in the digest the vendor gets when the quiet hours end
(server.notifications.preferences.digest). That digest stands for every reminder held
meanwhile: a reminder does not ring while its order still waits in it, and the digest
restarts the spacing, so the next reminder comes one spacing after it rather than beside it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.alerts.models import OrderReminder


async def after_digest(
    session: AsyncSession, type: str, notification_ids: Collection[int], now: datetime
) -> None:
    """The quiet-hours digest released these notifications of `type` at `now`
    (server.notifications.preferences.digest calls this through its hook): the orders
    among them restart their reminders."""
    if type == "order":
        await restart_after_digest(session, notification_ids, now)


async def restart_after_digest(
    session: AsyncSession, notification_ids: Collection[int], now: datetime
) -> None:
    """The digest naming these (order) notifications goes out at `now`, in this
    transaction: their pending orders' next reminders are one spacing after it. The row
    lock waits for a reminder loop that holds one of them (PostgreSQL), so the loop's
    write cannot land after this one."""
    if not notification_ids:
        return
    rows = await session.scalars(
        select(OrderReminder)
        .where(
            OrderReminder.notification_id.in_(list(notification_ids)),
            OrderReminder.status == "active",
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for row in rows:
        row.next_due_at = now + timedelta(seconds=row.every_seconds)
