"""The one place that decides who is notified of what, and fans each notification out.

A notification row, its push deliveries (the outbox) and the domain change are
written in the caller's transaction; the live event is published only after commit.
"""

from __future__ import annotations

from typing import Any

from server.accounts.models import User
from server.db import utcnow
from server.mail.orders import queue_if_no_device
from server.notifications import inbox, texts
from server.notifications.counts import Counts
from server.notifications.live import counts_message, notification_message
from server.notifications.models import Notification
from server.order_alerts import service as order_alerts
from server.orders.models import Order
from server.preferences import service as preferences
from server.push.outbox import enqueue_push
from server.unit_of_work import UnitOfWork


async def notify(
    uow: UnitOfWork,
    user_id: int,
    *,
    type: str,
    event: str,
    title: str,
    body: str,
    url: str,
    data: dict[str, Any] | None = None,
) -> Notification:
    """Write one notification for `user_id`, queue its pushes, publish it after commit.

    The user's preferences decide here, and only here, whether the inbox row is
    written and whether the push goes now, waits for the quiet-hours digest, or not
    at all (server.preferences).
    """
    decision = await preferences.decide_for(uow, user_id, type=type, event=event)
    notification = Notification(
        user_id=user_id,
        type=type,
        event=event,
        title=title[:200],
        body=body,
        url=url,
        data=data or {},
    )
    if not decision.stored:
        return notification  # neither inbox nor push wanted: nothing is written
    if not decision.inbox:  # push only: the row is the push's record, never unread
        notification.seen_at = notification.read_at = utcnow()
    uow.session.add(notification)
    await uow.session.flush()
    inbox.invalidate_counts_after_commit(uow, user_id)
    counts = await inbox.counts(uow, user_id)
    if decision.push == "now":
        await enqueue_push(uow, notification, app_badge=counts.unseen)
    elif decision.push == "hold":
        await preferences.hold(uow.session, notification)
    if not decision.inbox:
        return notification
    message = notification_message(notification, counts)

    async def publish() -> None:
        await uow.hub.publish(user_id, message)

    uow.after_commit(publish)
    return notification


def _order_data(order: Order) -> dict[str, Any]:
    return {"order_id": str(order.id), "status": order.status}


async def order_created(uow: UnitOfWork, order: Order) -> None:
    title, body = texts.order_created(order)
    notification = await notify(
        uow,
        order.vendor_id,
        type="order",
        event="order.created",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=_order_data(order),
    )
    # It rings again while pending, and its vendor hears if it stays unanswered.
    await order_alerts.schedule(uow, order, notification)
    # No device will ring: the order reaches the vendor by email (if they keep it on).
    await queue_if_no_device(uow, order)


async def order_status_changed(uow: UnitOfWork, order: Order, *, by: str) -> None:
    title, body = texts.status_changed(order, by)
    recipient = order.vendor_id if by == "customer" else order.customer_id
    await notify(
        uow,
        recipient,
        type="order",
        event=f"order.{order.status}",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=_order_data(order),
    )


async def payment_received(uow: UnitOfWork, order: Order, amount_cents: int) -> None:
    title, body = texts.payment_received(order, amount_cents)
    data = {**_order_data(order), "amount_cents": amount_cents}
    await notify(
        uow,
        order.vendor_id,
        type="payment",
        event="payment.received",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=data,
    )


async def cash_payment_recorded(uow: UnitOfWork, order: Order, amount_cents: int) -> None:
    """The vendor took cash (at pickup): the customer's record of it."""
    paid = texts.money(amount_cents, order.currency)
    outstanding = order.total_cents - (order.paid_cents - order.refunded_cents)
    rest = (
        "paid in full" if outstanding <= 0 else f"{texts.money(outstanding, order.currency)} to go"
    )
    await notify(
        uow,
        order.customer_id,
        type="payment",
        event="payment.recorded",
        title=f"{order.vendor.name} received {paid} for {texts.number(order)}",
        body=f"Paid in cash, recorded by {order.vendor.name} — {rest}.",
        url=f"/orders/{order.id}",
        data={**_order_data(order), "amount_cents": amount_cents},
    )


async def refund_issued(
    uow: UnitOfWork, order: Order, amount_cents: int, reason: str | None
) -> None:
    data = {**_order_data(order), "amount_cents": amount_cents}
    for recipient, to in ((order.customer_id, "customer"), (order.vendor_id, "vendor")):
        title, body = texts.refund_issued(order, amount_cents, reason, to=to)
        await notify(
            uow,
            recipient,
            type="payment",
            event="payment.refunded",
            title=title,
            body=body,
            url=f"/orders/{order.id}",
            data=data,
        )


async def message_posted(uow: UnitOfWork, order: Order, sender: User, text: str) -> None:
    recipient = order.customer_id if sender.id == order.vendor_id else order.vendor_id
    title, body = texts.message_posted(order, sender.name, text)
    await notify(
        uow,
        recipient,
        type="message",
        event="message.created",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=_order_data(order),
    )


async def system_notice(
    uow: UnitOfWork,
    user_id: int,
    *,
    title: str,
    body: str,
    url: str = "/notifications",
    event: str = "system.notice",
) -> Notification:
    return await notify(uow, user_id, type="system", event=event, title=title, body=body, url=url)


async def publish_counts(uow: UnitOfWork, user_id: int) -> Counts:
    """After a read or seen change commits, tell every tab of the user the new counts."""
    inbox.invalidate_counts_after_commit(uow, user_id)
    counts = await inbox.counts(uow, user_id)
    message = counts_message(counts)

    async def publish() -> None:
        await uow.hub.publish(user_id, message)

    uow.after_commit(publish)
    return counts
