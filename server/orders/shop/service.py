"""A marketplace's order gets what a native order gets: it rings, reminds, falls back to
email, and its answer stops the reminders and replaces it on every lock screen.

The integrations feature (above orders) calls these with plain values when an order
event arrives; the reminder loop (server.orders.alerts.reminders) treats a shop order's
reminder row as a native order's.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from server.core.db import utcnow
from server.core.errors import Conflict
from server.core.languages import language
from server.core.unit_of_work import UnitOfWork
from server.notifications.models import Notification
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.notifications.preferences.models import HeldPush
from server.orders import texts
from server.orders.alerts.models import OrderReminder
from server.orders.alerts.service import OrderPush, enqueue_order_push, new_reminder
from server.orders.shop.emails import queue_if_no_device
from server.orders.shop.models import ShopOrder, order_key


async def find(uow: UnitOfWork, vendor_id: int, source: str, order_ref: str) -> ShopOrder | None:
    return await uow.session.scalar(
        select(ShopOrder).where(
            ShopOrder.vendor_id == vendor_id,
            ShopOrder.source == source,
            ShopOrder.order_ref == order_ref,
        )
    )


async def new(
    uow: UnitOfWork,
    vendor_id: int,
    source: str,
    order_ref: str,
    *,
    customer: str | None,
    total_cents: int | None,
    item_count: int | None,
    currency: str | None,
    url: str | None,
) -> ShopOrder:
    """The shop order's row, pending, before its notification (which carries its key)."""
    shop = ShopOrder(
        vendor_id=vendor_id,
        source=source,
        order_ref=order_ref,
        key=order_key(source, vendor_id, order_ref),
        status="pending",
        customer=customer,
        total_cents=total_cents,
        item_count=item_count,
        currency=currency,
        url=url,
        emailed="",
    )
    uow.session.add(shop)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:  # the same order_ref raced in under another event id
        raise Conflict("This order is being received.", code="order_in_progress") from exc
    return shop


async def ring(
    uow: UnitOfWork, shop: ShopOrder, notification: Notification, prefs: rules.Preferences
) -> None:
    """After its `order.created` notification: reminders while pending, and the email when
    no device will ring, exactly as a native order (server.orders.notices)."""
    if notification.id is None:  # not stored: nothing to remind of
        return
    shop.notification_id = notification.id
    uow.session.add(new_reminder(prefs, notification.id, shop.vendor_id, shop_order_id=shop.id))
    await queue_if_no_device(uow, shop, prefs)


async def answer(uow: UnitOfWork, shop: ShopOrder, status: str, *, by: str) -> bool:
    """The shop reports the order `status` (accepted, rejected, cancelled); False when it
    has that status already (nothing changes: a report sent twice is one answer).

    Reminders stop in this transaction, the inbox item shows the status, and when the
    vendor answered their lock screens show it (a cancellation by the customer comes as
    an inbox notification of its own, with the same tag: that push is the replacement).
    """
    if shop.status == status:
        return False
    session = uow.session
    shop.status, shop.answered_at = status, shop.answered_at or utcnow()
    await session.execute(
        update(OrderReminder)
        .where(OrderReminder.shop_order_id == shop.id, OrderReminder.status == "active")
        .values(status="done", push_failed=False, finished_at=utcnow())
    )
    original = (
        await session.get(Notification, shop.notification_id) if shop.notification_id else None
    )
    if original is None:
        return True
    original.data = {**original.data, "status": status}
    await session.execute(delete(HeldPush).where(HeldPush.notification_id == original.id))
    if by == "vendor":
        await _replace(uow, shop, original)
    return True


async def _replace(uow: UnitOfWork, shop: ShopOrder, original: Notification) -> None:
    prefs = await preferences.load(uow, shop.vendor_id)
    # Where a new order would ring now, as a native order's answer (alerts.service).
    decision = rules.decide(prefs, type="order", event="order.created", now=preferences.now())
    if decision.push != "now":
        return
    lang = language(original.lang)
    push = OrderPush(
        id=original.id,
        type="order",
        event=f"order.{shop.status}",
        title=texts.status_title_of(shop.order_ref, shop.status, lang),
        body=original.body,
        url=original.url,
        data={"shop_order": shop.key, "status": shop.status},
        lang=lang.code,
    )
    await enqueue_order_push(uow, shop.vendor_id, push)
