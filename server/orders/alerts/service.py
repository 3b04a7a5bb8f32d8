"""Orders that cannot be missed: a pending order rings again until it is answered, and
every lock screen of the vendor follows the order once it is.

Both are further pushes of the order's own `order.created` notification: delivery rows
with their own payloads (server.push.payload builds them, as every push), no new inbox
rows, and the order's tag and Topic, so each device shows one notification per order
and a push service keeps only the newest undelivered one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from server.core.db import utcnow
from server.core.languages import language
from server.core.links import link_base
from server.core.unit_of_work import UnitOfWork
from server.notifications import inbox
from server.notifications.models import Notification
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.notifications.preferences.models import HeldPush
from server.orders import texts
from server.orders.alerts.models import OrderReminder
from server.orders.models import Order
from server.push.outbox import enqueue_pushes
from server.push.payload import PushContent, build_message

# The "unanswered" email comes this long after a new order when its vendor turned
# reminders off (repeat_every_seconds 0): the email must not wait for reminders that
# never come, nor come at once.
UNANSWERED_SECONDS = 120


@dataclass(frozen=True, slots=True)
class OrderPush(PushContent):
    """A push about an order that is not an inbox row of its own (a reminder, the answer):
    its `id` is the order's notification's, so the service worker reports its clicks (and
    a click marks read) against that one."""


def first_due(alerts: rules.OrderAlerts, now: datetime) -> tuple[int, int, datetime]:
    """(spacing in seconds, reminders, first due time) for a new order."""
    every = alerts.repeat_every_seconds or UNANSWERED_SECONDS
    return every, alerts.repeats, now + timedelta(seconds=every)


async def schedule(
    uow: UnitOfWork, order: Order, notification: Notification, prefs: rules.Preferences
) -> None:
    """Write the new order's reminder row, in the order's transaction.

    Every order gets one, even with reminders off: its last due time is the check for
    the "unanswered" email, and it links the order to the notification that its state
    pushes replace. `prefs` are the vendor's, as the order's notice loaded them.
    """
    if notification.id is None:  # not stored (never for orders, which always stay)
        return
    uow.session.add(new_reminder(prefs, notification.id, order.vendor_id, order_id=order.id))


def new_reminder(
    prefs: rules.Preferences,
    notification_id: int,
    vendor_id: int,
    *,
    order_id: int | None = None,
    shop_order_id: int | None = None,
) -> OrderReminder:
    """A new order's reminder row (a native order's or a shop's), first due one spacing
    after now, with the vendor's spacing and number of reminders."""
    every, repeats, due = first_due(prefs.alerts, utcnow())
    return OrderReminder(
        order_id=order_id,
        shop_order_id=shop_order_id,
        vendor_id=vendor_id,
        notification_id=notification_id,
        every_seconds=every,
        max_repeats=repeats,
        sent=0,
        status="active",
        next_due_at=due,
        push_failed=False,
    )


async def order_answered(uow: UnitOfWork, order: Order, *, by: str) -> None:
    """The order just left `pending` (accepted, rejected, cancelled), in this transaction:
    its reminders stop, and when the vendor answered, their devices show the outcome.

    The reminder row is finished in the status change's own transaction, so no reminder
    can follow the answer (the reminder loop holds the row's lock while it writes one; an
    answer waits for it, and the loop re-reads the status under that lock). A customer's
    cancellation reaches the vendor as an inbox notification of its own, whose push has
    the same tag and Topic: that push is the replacement, so none is sent here.
    """
    session = uow.session
    notification_id = await session.scalar(
        update(OrderReminder)
        .where(OrderReminder.order_id == order.id)
        .values(status="done", push_failed=False, finished_at=utcnow())
        .returning(OrderReminder.notification_id)
    )
    if notification_id is None:  # an order placed before reminders existed
        return
    # Still held for the quiet-hours digest: an answered order no longer needs to ring.
    await session.execute(delete(HeldPush).where(HeldPush.notification_id == notification_id))
    if by != "vendor":
        return
    prefs = await preferences.load(uow, order.vendor_id)
    # Sent where a new order would ring now: not when order pushes are off, nor in quiet
    # hours that hold new orders (the lock screen then shows nothing of this order).
    decision = rules.decide(prefs, type="order", event="order.created", now=preferences.now())
    if decision.push != "now":
        return
    original = await session.get(Notification, notification_id)
    body = original.body if original is not None else ""
    # In the language of the notification it replaces, whose body it shows again.
    lang = language(original.lang if original is not None else None)
    push = OrderPush(
        id=notification_id,
        type="order",
        event=f"order.{order.status}",
        title=texts.status_title(order, lang),
        body=body,
        url=f"/orders/{order.id}",
        data={"order_id": str(order.id), "status": order.status},
        lang=lang.code,
    )
    await enqueue_order_push(uow, order.vendor_id, push)


async def enqueue_order_push(uow: UnitOfWork, vendor_id: int, push: OrderPush) -> int:
    """Queue `push` to each unmuted device of the vendor, as a delivery of the order's
    notification; the badge shows the unseen count as it is (a reminder adds nothing)."""
    counts = await inbox.counts(uow, vendor_id)
    base = await link_base(uow, vendor_id)
    message = build_message(push, app_badge=counts.unseen, link_base=base)
    return await enqueue_pushes(uow, [(push.id, vendor_id, message)])
