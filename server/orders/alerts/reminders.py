"""The reminder loop: rings pending orders again, and emails about unanswered ones.

A loop of the worker role (server.background) looks once a second for due rows: the
spacing of reminders is 30 s at least, so a second late is well inside it, and the
look is one indexed read of the pending orders' rows (a signal to wake it early would
save nothing). Tests call `send_due` with the time they want.

Claiming is a row lock taken inside the transaction that writes the reminder's pushes
and moves the row on (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers share the rows;
SQLite has one writer at a time). The pushes, the count and the next due time commit
together or not at all: a worker killed mid-way leaves the row as it was, due, and the
next worker sends that reminder once. No lease column is needed, since nothing here
waits on the network while holding the row.

Quiet hours that hold new orders hold their reminders, and fold them into the digest
that ends the quiet hours (server.orders.alerts.held): the held reminder puts its order in
the digest if it is not there yet, no reminder rings while its order waits in the
digest, and the digest sets the next one a spacing after itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from server.core.db import utcnow
from server.core.languages import language
from server.core.unit_of_work import UnitOfWork, UnitOfWorkFactory
from server.mail.schemas import EmailReason
from server.notifications.models import Notification
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.notifications.preferences.models import HeldPush
from server.orders import texts
from server.orders.alerts.emails import queue_order_email
from server.orders.alerts.models import OrderReminder
from server.orders.alerts.service import OrderPush, enqueue_order_push
from server.orders.models import Order
from server.orders.shop.emails import queue_shop_email
from server.orders.shop.models import ShopOrder

log = logging.getLogger("vendorbell.order_alerts")

POLL_SECONDS = 1.0
BATCH = 100  # rows per transaction: a burst of orders is written in a few commits

_ACTIVE = OrderReminder.status == "active"


def _due(now: datetime) -> ColumnElement[bool]:
    return _ACTIVE & or_(OrderReminder.next_due_at <= now, OrderReminder.push_failed.is_(True))


async def any_due(uow: UnitOfWork, now: datetime) -> bool:
    """Whether a row is due: a read, so an idle loop never takes SQLite's write lock."""
    found = await uow.session.scalar(select(OrderReminder.id).where(_due(now)).limit(1))
    return found is not None


async def send_due(uow: UnitOfWork, now: datetime, *, limit: int = BATCH) -> int:
    """Act on up to `limit` due rows in the unit's transaction; how many reminders were
    rung. The caller commits."""
    session = uow.session
    rows = list(
        await session.scalars(
            select(OrderReminder)
            .where(_due(now))
            .order_by(OrderReminder.next_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return 0
    await preferences.preload(uow, sorted({row.vendor_id for row in rows}))
    # The orders still waiting in a quiet-hours digest (one read for the batch).
    in_digest = set(
        await session.scalars(
            select(HeldPush.notification_id).where(
                HeldPush.notification_id.in_([row.notification_id for row in rows])
            )
        )
    )
    rung = 0
    for row in rows:
        rung += await _advance(uow, row, now, row.notification_id in in_digest)
    return rung


async def _advance(uow: UnitOfWork, row: OrderReminder, now: datetime, in_digest: bool) -> int:
    """One row: the owed "push_failed" email, then the reminder or the "unanswered"
    email that is due; 1 if a reminder rang."""
    order = await _order_of(uow, row)
    if order is None or order.status != "pending":  # answered: the change closes it too
        row.status, row.push_failed, row.finished_at = "done", False, now
        return 0
    if row.push_failed:
        row.push_failed = False
        await _email(uow, order, "push_failed")
    if row.next_due_at > now:
        return 0
    if row.sent >= row.max_repeats:
        # One spacing after the last reminder (or after the order, with none) and still
        # pending: the vendor hears of it by email, if they keep order emails on.
        await _email(uow, order, "unanswered")
        row.status, row.finished_at = "done", now
        return 0
    every = timedelta(seconds=row.every_seconds)
    prefs = uow.local(preferences.UNIT_PREFERENCES)[row.vendor_id]
    action = rules.decide(prefs, type="order", event="order.created", now=now).push
    if action == "hold" or in_digest:
        # Quiet hours that hold new orders hold their reminders too: none is sent, none
        # is counted, and the next look is one spacing later. The order is named in the
        # digest that ends them, which stands for this reminder and restarts the spacing
        # (server.orders.alerts.held); until that digest is out, quiet hours over or not,
        # the reminder would only ring beside it.
        if not in_digest:
            await preferences.hold_many(
                uow.session, "order", [(row.vendor_id, row.notification_id)]
            )
        row.next_due_at = now + every
        return 0
    row.sent += 1
    # From the planned time, not from now, so a late look does not stretch the spacing;
    # but after a long stop, from now, so the missed reminders do not come in a burst.
    planned = row.next_due_at + every
    row.next_due_at = planned if planned > now else now + every
    if action == "skip":  # order pushes are off: the round passes without a push
        return 0
    await _ring(uow, row, order, now)
    return 1


async def _order_of(uow: UnitOfWork, row: OrderReminder) -> Order | ShopOrder | None:
    """The row's order, native or a marketplace's, as it is now (its status decides)."""
    if row.shop_order_id is not None:
        return await uow.session.get(ShopOrder, row.shop_order_id, populate_existing=True)
    return await uow.session.get(Order, row.order_id, populate_existing=True)


async def _email(uow: UnitOfWork, order: Order | ShopOrder, reason: EmailReason) -> None:
    if isinstance(order, ShopOrder):
        await queue_shop_email(uow, order, reason)
    else:
        await queue_order_email(uow, order, reason)


def _tag_data(order: Order | ShopOrder) -> dict[str, Any]:
    """What names the order in a push: its tag (server.push.payload) and status."""
    if isinstance(order, ShopOrder):
        return {"shop_order": order.key, "status": order.status}
    return {"order_id": str(order.id), "status": order.status}


async def _ring(
    uow: UnitOfWork, row: OrderReminder, order: Order | ShopOrder, now: datetime
) -> None:
    notification = await uow.session.get(Notification, row.notification_id)
    if notification is None:
        return
    # The inbox item says how many reminders it had; it stays one item, its unread state
    # and the counts unchanged.
    notification.data = {**notification.data, "reminders": row.sent}
    # In the order notification's language: the reminder shows its body again, and
    # replaces it on the lock screen.
    lang = language(notification.lang)
    waited = (now - order.created_at).total_seconds()
    push = OrderPush(
        id=notification.id,
        type="order",
        event="order.reminder",
        title=texts.order_reminder(order.number, waited, lang),
        body=notification.body,
        url=notification.url,
        data={**_tag_data(order), "reminders": row.sent},
        lang=lang.code,
    )
    await enqueue_order_push(uow, row.vendor_id, push)
    log.info("order_alerts.reminder.queued", extra={"order": order.id, "n": row.sent})


async def remind_due(units: UnitOfWorkFactory) -> None:
    """One pass, run by the runtime every POLL_SECONDS: a cheap read says whether any
    row is due, and only then a write transaction acts on them."""
    async with units.reader() as uow:
        if not await any_due(uow, utcnow()):
            return
    async with units.writer() as uow:
        await send_due(uow, utcnow())
        await uow.commit()
