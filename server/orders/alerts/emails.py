"""Fallback emails about orders: queued in the caller's transaction, once per reason.

Callers: the order's notice (server.orders.notices) when a new order finds no device to ring
(`queue_if_no_device`), and whoever sees that every push of an order failed or that it
is still unanswered (`queue_order_email`). The mail loop (server.mail.outbox) sends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.core.languages import language
from server.core.links import absolute, link_base
from server.core.unit_of_work import UnitOfWork
from server.mail.message import SETTINGS_PATH, new_message_id
from server.mail.models import OutgoingEmail
from server.mail.schemas import EmailOut, EmailReason
from server.mail.signals import EMAILS_QUEUED
from server.mail.transport import NOT_SENT, SHOWN
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.orders.alerts import email_texts as texts
from server.orders.models import Order, OrderItem
from server.push.models import PushSubscription


async def queue_email(
    uow: UnitOfWork,
    vendor_id: int,
    reason: EmailReason,
    facts: texts.OrderFacts,
    *,
    key: str,
    order_id: int | None = None,
    prefs: rules.Preferences | None = None,
) -> bool:
    """Queue the vendor's email about an order for `reason`, in the unit's transaction:
    the one way a native order's and a shop order's emails are written.

    False, and nothing written, when the vendor switched order emails off, has no address
    (a marketplace's vendor whose email it never gave), or, for a native order
    (`order_id`), this reason was queued already (the outbox's unique (order_id, reason)
    holds even against a concurrent caller). `key` names the order in the Message-ID.
    After commit, the mail loop of this process (and, with REDIS_URL, of the others) is
    woken. `prefs`: the vendor's, when the caller has them already.
    """
    prefs = prefs or await preferences.load(uow, vendor_id)
    if not prefs.channels("order").email:
        return False
    vendor = await uow.session.get(User, vendor_id)
    if vendor is None or not vendor.email:
        return False
    public_url = uow.settings.public_url
    to = texts.Recipient(
        name=vendor.name,
        link=absolute(await link_base(uow, vendor.id), facts.path),
        settings_link=absolute(public_url, SETTINGS_PATH),
    )
    content = texts.render(facts, to, reason, language(vendor.locale))
    values = {
        "user_id": vendor.id,
        "order_id": order_id,
        "reason": reason,
        "recipient": vendor.email,
        "subject": content.subject,
        "text_body": content.text,
        "html_body": content.html,
        "message_id": new_message_id(public_url, f"{key}.{reason}"),
        "status": "queued",
        "attempts": 0,
    }
    email_id = await _insert_once(uow.session, values)
    if email_id is None:
        return False
    signal = uow.signals[EMAILS_QUEUED]

    async def committed() -> None:
        signal.send([email_id])

    uow.after_commit(committed)
    return True


# Built once: it runs with every new order (building it cost more than running it).
_A_RINGING_DEVICE = (
    select(PushSubscription.id)
    .where(PushSubscription.user_id == bindparam("vendor_id"), PushSubscription.muted.is_(False))
    .limit(1)
)


async def wants_no_device_email(uow: UnitOfWork, vendor_id: int, prefs: rules.Preferences) -> bool:
    """For a new order (native or a shop's): True when the vendor takes order emails and
    no unmuted push device of theirs will ring (`prefs`: the vendor's, as loaded)."""
    if not prefs.channels("order").email:
        return False
    device = await uow.session.scalar(_A_RINGING_DEVICE, {"vendor_id": vendor_id})
    return device is None


async def _insert_once(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """The new email's id, or None when one for this order and reason exists: a
    concurrent caller may have queued it since the check, then this inserts nothing
    (rows without an order never conflict: NULLs are distinct)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(OutgoingEmail)
        .values(values)
        .on_conflict_do_nothing(index_elements=["order_id", "reason"])
        .returning(OutgoingEmail.id)
    )
    email_id: int | None = await session.scalar(statement)
    return email_id


async def queue_order_email(
    uow: UnitOfWork, order: Order, reason: EmailReason, prefs: rules.Preferences | None = None
) -> bool:
    """Queue the vendor's email about the native `order` for `reason` (`queue_email`);
    False when this reason was queued already for this order (whatever became of it)."""
    session = uow.session
    if await _queued(session, order.id, reason):
        return False
    customer = await session.get(User, order.customer_id)
    if customer is None:
        return False
    lines = [
        texts.Line(item.name, item.quantity, item.quantity * item.unit_price_cents)
        for item in await _items(session, order)
    ]
    facts = texts.OrderFacts(
        number=order.number,
        customer_name=customer.name,
        currency=order.currency,
        total_cents=order.total_cents,
        count=sum(line.quantity for line in lines),
        note=order.note,
        lines=lines,
        path=f"/orders/{order.id}",
    )
    return await queue_email(
        uow, order.vendor_id, reason, facts, key=f"order{order.id}", order_id=order.id, prefs=prefs
    )


async def queue_if_no_device(uow: UnitOfWork, order: Order, prefs: rules.Preferences) -> bool:
    """For a new order: email the vendor when no unmuted push device of theirs will ring
    (`prefs`: the vendor's, as the order's notice loaded them)."""
    if not await wants_no_device_email(uow, order.vendor_id, prefs):
        return False
    return await queue_order_email(uow, order, "no_device", prefs)


async def emails_for_order(session: AsyncSession, order_id: int) -> list[EmailOut]:
    """The order's fallback emails, oldest first: why, what became of them, and when."""
    rows = await session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.order_id == order_id).order_by(OutgoingEmail.id)
    )
    return [
        EmailOut(
            reason=row.reason,
            status=row.status,
            created_at=row.created_at,
            sent_at=row.sent_at,
            attempts=row.attempts,
            last_error=_shown(row.last_error),
        )
        for row in rows
    ]


def _shown(error: str | None) -> str | None:
    """The stored failure as the vendor may read it: one of the fixed sentences. A row
    written before they existed may hold the server's own reply: that is not shown."""
    if error is None or error in SHOWN:
        return error
    return NOT_SENT


async def _queued(session: AsyncSession, order_id: int, reason: str) -> bool:
    found = await session.scalar(
        select(OutgoingEmail.id).where(
            OutgoingEmail.order_id == order_id, OutgoingEmail.reason == reason
        )
    )
    return found is not None


async def _items(session: AsyncSession, order: Order) -> list[OrderItem]:
    """The order's items: those already loaded with it, else read (relationships never
    lazy-load in this code base)."""
    if "items" not in inspect(order).unloaded:
        return list(order.items)
    rows = await session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
    )
    return list(rows)
