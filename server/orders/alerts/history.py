"""What an order's alerts did so far, read back for the vendor's order page."""

from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.alerts.emails import emails_for_order
from server.orders.alerts.models import OrderReminder
from server.orders.alerts.schemas import OrderAlertsOut
from server.orders.models import Order
from server.push.models import PushDelivery

# The pushes that ring: the new-order push and its reminders are the order
# notification's `high` urgency deliveries (server.push.payload.URGENT_EVENTS); the
# answer that follows on the lock screens is `normal`.
_RINGING = PushDelivery.urgency == "high"
# A device is its subscription; a delivery whose subscription was deleted since (NULL)
# stands for a device of its own.
_DEVICE = func.coalesce(PushDelivery.subscription_id, -PushDelivery.id)


async def order_alerts(session: AsyncSession, order: Order) -> OrderAlertsOut:
    """The order's devices rung and reached, reminders and emails: two grouped reads."""
    reached = case((PushDelivery.status == "delivered", _DEVICE))
    row = (
        await session.execute(
            select(
                OrderReminder.sent,
                func.count(_DEVICE.distinct()),
                func.count(reached.distinct()),
            )
            .outerjoin(
                PushDelivery,
                and_(PushDelivery.notification_id == OrderReminder.notification_id, _RINGING),
            )
            .where(OrderReminder.order_id == order.id)
            .group_by(OrderReminder.id, OrderReminder.sent)
        )
    ).first()
    sent, rung, delivered = row if row is not None else (0, 0, 0)
    return OrderAlertsOut(
        devices_rung=rung,
        devices_reached=delivered,
        # A reminder rings devices: with none ("No device rang"), no reminder rang either,
        # though its rounds passed (they still lead to the "unanswered" email).
        reminders_sent=sent if rung else 0,
        emails=await emails_for_order(session, order.id),
        answered_at=order.answered_at,
    )
