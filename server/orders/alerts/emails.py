"""Fallback emails about orders: queued in the caller's transaction, once per reason.

Callers: the order's notice (server.orders.notices) when a new order finds no device to ring
(`queue_if_no_device`), and whoever sees that every push of an order failed or that it
is still unanswered (`queue_order_email`). The mail loop (server.mail.outbox) sends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
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


async def _facts(
    session: AsyncSession, order: Order, vendor: User, customer: User, base: str, public_url: str
) -> texts.OrderFacts:
    """What the order's email says: the order, its lines and its links."""
    return texts.OrderFacts(
        number=order.number,
        vendor_name=vendor.name,
        customer_name=customer.name,
        currency=order.currency,
        total_cents=order.total_cents,
        note=order.note,
        lines=[
            texts.Line(item.name, item.quantity, item.quantity * item.unit_price_cents)
            for item in await _items(session, order)
        ],
        link=absolute(base, f"/orders/{order.id}"),
        settings_link=absolute(public_url, SETTINGS_PATH),
    )


async def _insert_once(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """The new email's id, or None when one for this order and reason exists: a
    concurrent caller may have queued it since the check, then this inserts nothing."""
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
    """Queue the vendor's email about `order` for `reason`, in the unit's transaction.

    False, and nothing written, when the vendor switched order emails off or this
    reason was already queued for this order (whatever became of it). After commit,
    the mail loop of this process (and, with REDIS_URL, of the others) is woken. `prefs`:
    the vendor's, when the caller has them already.
    """
    session = uow.session
    prefs = prefs or await preferences.load(uow, order.vendor_id)
    if not prefs.channels("order").email:
        return False
    if await _queued(session, order.id, reason):
        return False
    vendor = await session.get(User, order.vendor_id)
    customer = await session.get(User, order.customer_id)
    if vendor is None or customer is None or not vendor.email:
        return False  # a marketplace's vendor whose email the marketplace never gave
    public_url = uow.settings.public_url
    base = await link_base(uow, vendor.id)
    facts = await _facts(session, order, vendor, customer, base, public_url)
    content = texts.render(facts, reason, language(vendor.locale))
    values = {
        "user_id": vendor.id,
        "order_id": order.id,
        "reason": reason,
        "recipient": vendor.email,
        "subject": content.subject,
        "text_body": content.text,
        "html_body": content.html,
        "message_id": new_message_id(public_url, f"order{order.id}.{reason}"),
        "status": "queued",
        "attempts": 0,
    }
    email_id = await _insert_once(session, values)
    if email_id is None:
        return False
    signal = uow.signals[EMAILS_QUEUED]

    async def committed() -> None:
        signal.send([email_id])

    uow.after_commit(committed)
    return True


async def queue_if_no_device(uow: UnitOfWork, order: Order, prefs: rules.Preferences) -> bool:
    """For a new order: email the vendor when no unmuted push device of theirs will ring
    (`prefs`: the vendor's, as the order's notice loaded them)."""
    if not prefs.channels("order").email:
        return False
    device = await uow.session.scalar(
        select(PushSubscription.id)
        .where(PushSubscription.user_id == order.vendor_id, PushSubscription.muted.is_(False))
        .limit(1)
    )
    if device is not None:
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
