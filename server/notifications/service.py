"""The one place that decides who is notified of what, and fans each notification out.

A notification row, its push deliveries (the outbox) and the domain change are
written in the caller's transaction; the live event is published only after commit.
"""

from __future__ import annotations

from typing import Any

from server.accounts.models import User
from server.accounts.service import locale_of
from server.core.db import utcnow
from server.core.languages import DEFAULT, Language, language
from server.core.unit_of_work import UnitOfWork
from server.notifications import inbox, texts
from server.notifications.counts import Counts
from server.notifications.live import counts_message, notification_message
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences
from server.orders.alerts import service as order_alerts
from server.orders.alerts.emails import queue_if_no_device
from server.orders.models import Order
from server.push.outbox import enqueue_push


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
    lang: str = DEFAULT,
) -> Notification:
    """Write one notification for `user_id`, queue its pushes, publish it after commit.

    `title` and `body` are in `lang` (the push says so): the recipient's language
    (`recipient_language`) for texts written here, English for texts not translated.
    The user's preferences decide here, and only here, whether the inbox row is
    written and whether the push goes now, waits for the quiet-hours digest, or not
    at all (server.notifications.preferences).
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
        lang=lang,
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


async def recipient_language(uow: UnitOfWork, user_id: int) -> Language:
    """The language `user_id` reads; their row is usually in the session already (an
    order's vendor and customer are loaded with it), so this costs no query."""
    return language(await locale_of(uow.session, user_id))


def _order_data(order: Order) -> dict[str, Any]:
    return {"order_id": str(order.id), "status": order.status}


async def order_created(uow: UnitOfWork, order: Order) -> None:
    lang = await recipient_language(uow, order.vendor_id)
    title, body = texts.order_created(order, lang)
    notification = await notify(
        uow,
        order.vendor_id,
        type="order",
        event="order.created",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=_order_data(order),
        lang=lang.code,
    )
    # It rings again while pending, and its vendor hears if it stays unanswered.
    await order_alerts.schedule(uow, order, notification)
    # No device will ring: the order reaches the vendor by email (if they keep it on).
    await queue_if_no_device(uow, order)


async def order_status_changed(uow: UnitOfWork, order: Order, *, by: str) -> None:
    recipient = order.vendor_id if by == "customer" else order.customer_id
    lang = await recipient_language(uow, recipient)
    title, body = texts.status_changed(order, by, lang)
    await notify(
        uow,
        recipient,
        type="order",
        event=f"order.{order.status}",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=_order_data(order),
        lang=lang.code,
    )


async def payment_received(uow: UnitOfWork, order: Order, amount_cents: int) -> None:
    lang = await recipient_language(uow, order.vendor_id)
    title, body = texts.payment_received(order, amount_cents, lang)
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
        lang=lang.code,
    )


async def cash_payment_recorded(uow: UnitOfWork, order: Order, amount_cents: int) -> None:
    """The vendor took cash (at pickup): the customer's record of it."""
    lang = await recipient_language(uow, order.customer_id)
    title, body = texts.cash_payment_recorded(order, amount_cents, lang)
    await notify(
        uow,
        order.customer_id,
        type="payment",
        event="payment.recorded",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data={**_order_data(order), "amount_cents": amount_cents},
        lang=lang.code,
    )


async def refund_issued(
    uow: UnitOfWork, order: Order, amount_cents: int, reason: str | None
) -> None:
    data = {**_order_data(order), "amount_cents": amount_cents}
    for recipient, to in ((order.customer_id, "customer"), (order.vendor_id, "vendor")):
        lang = await recipient_language(uow, recipient)
        title, body = texts.refund_issued(order, amount_cents, reason, to=to, lang=lang)
        await notify(
            uow,
            recipient,
            type="payment",
            event="payment.refunded",
            title=title,
            body=body,
            url=f"/orders/{order.id}",
            data=data,
            lang=lang.code,
        )


async def message_posted(uow: UnitOfWork, order: Order, sender: User, text: str) -> None:
    recipient = order.customer_id if sender.id == order.vendor_id else order.vendor_id
    lang = await recipient_language(uow, recipient)
    title, body = texts.message_posted(order, sender.name, text, lang)
    await notify(
        uow,
        recipient,
        type="message",
        event="message.created",
        title=title,
        body=body,
        url=f"/orders/{order.id}",
        data=_order_data(order),
        lang=lang.code,
    )


async def system_notice(
    uow: UnitOfWork,
    user_id: int,
    *,
    title: str,
    body: str,
    url: str = "/notifications",
    event: str = "system.notice",
    lang: str = DEFAULT,
) -> Notification:
    return await notify(
        uow, user_id, type="system", event=event, title=title, body=body, url=url, lang=lang
    )


async def publish_counts(uow: UnitOfWork, user_id: int) -> Counts:
    """After a read or seen change commits, tell every tab of the user the new counts."""
    inbox.invalidate_counts_after_commit(uow, user_id)
    counts = await inbox.counts(uow, user_id)
    message = counts_message(counts)

    async def publish() -> None:
        await uow.hub.publish(user_id, message)

    uow.after_commit(publish)
    return counts
