"""Placing and moving orders; every change tells whom it concerns (server.orders.notices)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.accounts.models import User
from server.core.db import utcnow
from server.core.errors import Conflict, Forbidden, Invalid, NotFound
from server.core.ids import parse_id
from server.core.unit_of_work import UnitOfWork
from server.orders.alerts import service as order_alerts
from server.orders.idempotency import already_recorded, money_digest, record_once
from server.orders.models import Order, OrderItem, OrderMessage, OrderPayment
from server.orders.notices import Event, Said, tell
from server.orders.numbers import next_number
from server.orders.schemas import OrderIn
from server.orders.texts import money
from server.orders.transitions import CLOSED, allowed_next, can_move

_FULL = (
    selectinload(Order.items),
    selectinload(Order.payments),
    selectinload(Order.messages),
    selectinload(Order.vendor),
    selectinload(Order.customer),
)


def party_of(order: Order, user: User) -> str | None:
    if user.id == order.vendor_id:
        return "vendor"
    if user.id == order.customer_id:
        return "customer"
    return None


async def load_order(session: AsyncSession, order_id: int, *, for_update: bool = False) -> Order:
    stmt = select(Order).where(Order.id == order_id).options(*_FULL)
    if for_update:
        stmt = stmt.with_for_update()
    order = await session.scalar(stmt.execution_options(populate_existing=True))
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


async def get_for_party(
    session: AsyncSession, raw_id: str, user: User, *, for_update: bool = False
) -> Order:
    """The order if `user` is one of its parties; 404 otherwise (never reveal it exists)."""
    order_id = parse_id(raw_id)
    if order_id is None:
        raise NotFound("No such order.", code="order_not_found")
    order = await load_order(session, order_id, for_update=for_update)
    if party_of(order, user) is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


def _request_hash(body: OrderIn) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


async def _replay(session: AsyncSession, customer: User, key: str, digest: str) -> Order | None:
    order_id = await session.scalar(
        select(Order.id).where(Order.customer_id == customer.id, Order.idempotency_key == key)
    )
    if order_id is None:
        return None
    order = await load_order(session, order_id)
    if order.request_hash != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different order.",
            code="idempotency_key_reused",
        )
    return order


async def place_order(
    uow: UnitOfWork, customer: User, body: OrderIn, idempotency_key: str | None
) -> tuple[Order, bool]:
    """Create the order and notify the vendor; returns (order, created)."""
    session = uow.session
    digest = _request_hash(body)
    if idempotency_key and (order := await _replay(session, customer, idempotency_key, digest)):
        return order, False
    vendor_id = parse_id(body.vendor_id)
    # Both parties in one round trip (two session.get calls were ~1.5 ms each here).
    wanted = [customer.id] if vendor_id is None else [customer.id, vendor_id]
    parties = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(wanted)))}
    vendor = parties.get(vendor_id) if vendor_id is not None else None
    if vendor is None or vendor.role != "vendor":
        raise Invalid("There is no vendor with this id.", code="unknown_vendor")
    # The order is built whole in memory (parties, items, empty payments and messages)
    # so that answering and notifying need no reload: measured, the reload was six of
    # the order's fifteen queries.
    buyer = parties[customer.id]
    order = Order(
        customer_id=customer.id,
        vendor_id=vendor.id,
        customer=buyer,
        vendor=vendor,
        status="pending",
        currency=body.currency,
        total_cents=sum(i.quantity * i.unit_price_cents for i in body.items),
        paid_cents=0,
        refunded_cents=0,
        note=body.note or None,
        idempotency_key=idempotency_key,
        request_hash=digest,
        answered_at=None,
        accepted_at=None,
        items=[OrderItem(**item.model_dump()) for item in body.items],
        payments=[],
        messages=[],
    )
    if idempotency_key is None:
        order.number = await next_number(session, vendor.id)
        session.add(order)
        await session.flush()
    else:
        try:
            # Numbered and added inside the savepoint, so that a conflict discards both
            # (the number is given back).
            async with session.begin_nested():
                order.number = await next_number(session, vendor.id)
                session.add(order)
                await session.flush()
        except IntegrityError:
            # A concurrent request with the same key committed first: answer with its order.
            if order := await _replay(session, customer, idempotency_key, digest):
                return order, False
            raise
    await tell(uow, order, "order.created")
    return order, True


async def list_orders(
    session: AsyncSession, user: User, *, status: str | None, limit: int
) -> Sequence[Order]:
    stmt = (
        select(Order)
        .where(or_(Order.vendor_id == user.id, Order.customer_id == user.id))
        .options(*_FULL)
        .order_by(Order.id.desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(Order.status == status)
    return (await session.scalars(stmt)).all()


async def change_status(
    uow: UnitOfWork, order: Order, user: User, new_status: str, reason: str | None = None
) -> Order:
    session = uow.session
    party = party_of(order, user)
    assert party is not None
    if not can_move(order.status, new_status, party):
        if party == "customer" and new_status != "cancelled":
            raise Forbidden("Only the vendor can change this order's status.", code="vendor_only")
        raise Conflict(
            f"An order that is {order.status} cannot become {new_status}"
            + (f" by the {party}." if allowed_next(order.status, "vendor") else "."),
            code="illegal_transition",
        )
    answered = order.status == "pending"
    order.status = new_status
    if answered:
        order.answered_at = utcnow()
        if new_status == "accepted":
            order.accepted_at = order.answered_at
    if new_status == "rejected":
        order.reject_reason = reason or None
    await session.flush()
    order = await load_order(session, order.id)
    if answered:  # reminders stop in this very transaction; lock screens follow
        await order_alerts.order_answered(uow, order, by=party)
    await tell(uow, order, "order.status", Said(by=party))
    return order


async def add_payment(
    uow: UnitOfWork,
    order: Order,
    amount_cents: int,
    *,
    by: str = "customer",
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Money in: paid by the customer, or cash the vendor took (`by="vendor"`, at pickup).
    The other party is told. Returns (order, recorded): False for a replayed request."""
    session = uow.session
    user_id = order.vendor_id if by == "vendor" else order.customer_id
    kind = "cash" if by == "vendor" else "payment"
    digest = money_digest(kind, order.id, amount_cents, None)
    if idempotency_key and await already_recorded(session, user_id, idempotency_key, digest):
        return await load_order(session, order.id), False
    if order.status in CLOSED:
        raise Conflict(f"An order that is {order.status} cannot be paid.", code="order_closed")
    outstanding = order.outstanding_cents
    if amount_cents > outstanding:
        left = money(outstanding, order.currency)
        raise Conflict(f"Only {left} is still to pay on this order.", code="overpayment")
    entry = _entry(order, "payment", amount_cents, None, user_id, idempotency_key, digest)
    if not await record_once(session, entry):
        return await load_order(session, order.id), False
    order.paid_cents += amount_cents
    await session.flush()
    order = await load_order(session, order.id)
    event: Event = "payment.recorded" if by == "vendor" else "payment.received"
    await tell(uow, order, event, Said(amount_cents=amount_cents))
    return order, True


async def add_refund(
    uow: UnitOfWork,
    order: Order,
    amount_cents: int,
    reason: str | None,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Money back to the customer, by the vendor. Returns (order, recorded)."""
    session = uow.session
    digest = money_digest("refund", order.id, amount_cents, reason)
    if idempotency_key and await already_recorded(
        session, order.vendor_id, idempotency_key, digest
    ):
        return await load_order(session, order.id), False
    refundable = order.paid_cents - order.refunded_cents
    if amount_cents > refundable:
        raise Conflict(
            f"Only {money(refundable, order.currency)} can be refunded: never more than was paid.",
            code="refund_exceeds_paid",
        )
    entry = _entry(order, "refund", amount_cents, reason, order.vendor_id, idempotency_key, digest)
    if not await record_once(session, entry):
        return await load_order(session, order.id), False
    order.refunded_cents += amount_cents
    await session.flush()
    order = await load_order(session, order.id)
    await tell(uow, order, "payment.refunded", Said(amount_cents=amount_cents, reason=reason))
    return order, True


def _entry(
    order: Order,
    kind: str,
    amount_cents: int,
    reason: str | None,
    user_id: int,
    key: str | None,
    digest: str,
) -> OrderPayment:
    return OrderPayment(
        order_id=order.id,
        kind=kind,
        amount_cents=amount_cents,
        reason=reason,
        recorded_by_id=user_id,
        idempotency_key=key or None,  # an empty header is no key
        request_hash=digest if key else None,
    )


async def add_message(uow: UnitOfWork, order: Order, sender: User, body: str) -> Order:
    session = uow.session
    order.messages.append(OrderMessage(sender_id=sender.id, body=body))
    await session.flush()
    order = await load_order(session, order.id)
    by = "vendor" if sender.id == order.vendor_id else "customer"
    await tell(uow, order, "message.created", Said(by=by, sender=sender, message=body))
    return order
