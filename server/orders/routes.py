"""Orders: place, read, and move through their life; each change notifies the other party."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.deps import CurrentCustomer, CurrentUser, SessionDep, UnitOfWorkDep
from server.accounts.models import User
from server.core.errors import Forbidden
from server.core.unit_of_work import UnitOfWork
from server.orders import service
from server.orders.alerts.history import order_alerts
from server.orders.alerts.schemas import OrderAlertsOut
from server.orders.models import Order
from server.orders.schemas import (
    MessageIn,
    OrderIn,
    OrderOut,
    PaymentIn,
    RefundIn,
    RejectIn,
    StatusIn,
)
from server.orders.transitions import STATUSES, allowed_next

router = APIRouter(prefix="/api/orders", tags=["orders"])


def order_out(order: Order, viewer: User, alerts: OrderAlertsOut | None = None) -> OrderOut:
    party = service.party_of(order, viewer) or "customer"
    return OrderOut.model_validate(
        {
            **{
                c: getattr(order, c)
                for c in (
                    "id",
                    "status",
                    "currency",
                    "total_cents",
                    "paid_cents",
                    "refunded_cents",
                    "outstanding_cents",
                    "note",
                    "reject_reason",
                    "created_at",
                    "updated_at",
                )
            },
            "number": f"#{order.number}",
            "vendor": order.vendor,
            "customer": order.customer,
            "items": order.items,
            "messages": order.messages,
            "payments": order.payments,
            "allowed_transitions": allowed_next(order.status, party),
            "alerts": alerts,
        }
    )


async def order_page(session: AsyncSession, order: Order, viewer: User) -> OrderOut:
    """One order as its page shows it: the vendor also sees how it rang them."""
    vendor = service.party_of(order, viewer) == "vendor"
    return order_out(order, viewer, await order_alerts(session, order) if vendor else None)


async def party_order(order_id: str, session: SessionDep, user: CurrentUser) -> Order:
    """The order, locked for the change, if the caller is one of its parties (else 404)."""
    return await service.get_for_party(session, order_id, user, for_update=True)


async def vendor_order(order: Annotated[Order, Depends(party_order)], user: CurrentUser) -> Order:
    if order.vendor_id != user.id:
        raise Forbidden("Only the vendor of this order can do this.", code="vendor_only")
    return order


async def customer_order(order: Annotated[Order, Depends(party_order)], user: CurrentUser) -> Order:
    if order.customer_id != user.id:
        raise Forbidden("Only the customer of this order can do this.", code="customer_only")
    return order


PartyOrder = Annotated[Order, Depends(party_order)]
VendorOrder = Annotated[Order, Depends(vendor_order)]
CustomerOrder = Annotated[Order, Depends(customer_order)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderOut)
async def place_order(
    body: OrderIn,
    response: Response,
    uow: UnitOfWorkDep,
    customer: CurrentCustomer,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderOut:
    order, created = await service.place_order(uow, customer, body, idempotency_key)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return order_out(order, customer)


@router.get("", response_model=list[OrderOut])
async def list_orders(
    session: SessionDep,
    user: CurrentUser,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(" + "|".join(STATUSES) + ")$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OrderOut]:
    orders = await service.list_orders(session, user, status=status_, limit=limit)
    return [order_out(order, user) for order in orders]


@router.get("/{order_id}", response_model=OrderOut)
async def get_order(order_id: str, session: SessionDep, user: CurrentUser) -> OrderOut:
    """The order, for either party; its vendor also gets `alerts`: the devices it rang and
    reached, the reminders, the fallback emails and when it was answered."""
    return await order_page(session, await service.get_for_party(session, order_id, user), user)


@router.post("/{order_id}/accept", response_model=OrderOut)
async def accept(order: VendorOrder, uow: UnitOfWorkDep, user: CurrentUser) -> OrderOut:
    order = await service.change_status(uow, order, user, "accepted")
    return await order_page(uow.session, order, user)


@router.post("/{order_id}/reject", response_model=OrderOut)
async def reject(
    order: VendorOrder, uow: UnitOfWorkDep, user: CurrentUser, body: RejectIn | None = None
) -> OrderOut:
    reason = body.reason if body else None
    order = await service.change_status(uow, order, user, "rejected", reason)
    return await order_page(uow.session, order, user)


@router.post("/{order_id}/status", response_model=OrderOut)
async def change_status(
    body: StatusIn, order: PartyOrder, uow: UnitOfWorkDep, user: CurrentUser
) -> OrderOut:
    order = await service.change_status(uow, order, user, body.status)
    return await order_page(uow.session, order, user)


# Sent again with the same key after a timeout, a money POST answers as the first time
# did instead of recording the money twice (server.orders.idempotency).
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Any string unique to this payment or refund for its sender: a retry "
        "with the same key and body is answered without recording again "
        "(`Idempotent-Replayed: true`); the same key with another body is a 409.",
    ),
]


@dataclass(frozen=True)
class MoneyPost:
    """What every money POST takes beside its body and order: the unit, the caller, and
    the retry key whose replay is answered as the first time."""

    uow: UnitOfWork
    user: User
    response: Response
    idempotency_key: str | None

    def answered(self, created: bool) -> None:
        if not created:
            self.response.headers["Idempotent-Replayed"] = "true"


def _money_post(
    uow: UnitOfWorkDep,
    user: CurrentUser,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MoneyPost:
    return MoneyPost(uow, user, response, idempotency_key)


MoneyPostDep = Annotated[MoneyPost, Depends(_money_post)]


async def _payment(post: MoneyPost, order: Order, body: PaymentIn, by: str) -> OrderOut:
    order, created = await service.add_payment(
        post.uow, order, body.amount_cents, by=by, idempotency_key=post.idempotency_key
    )
    post.answered(created)
    return order_out(order, post.user)


@router.post("/{order_id}/payments", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
async def pay(body: PaymentIn, order: CustomerOrder, post: MoneyPostDep) -> OrderOut:
    return await _payment(post, order, body, by="customer")


@router.post(
    "/{order_id}/cash-payments", response_model=OrderOut, status_code=status.HTTP_201_CREATED
)
async def record_cash_payment(body: PaymentIn, order: VendorOrder, post: MoneyPostDep) -> OrderOut:
    """The vendor records money taken in person (cash at pickup); the customer is told."""
    return await _payment(post, order, body, by="vendor")


@router.post("/{order_id}/refunds", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
async def refund(body: RefundIn, order: VendorOrder, post: MoneyPostDep) -> OrderOut:
    order, created = await service.add_refund(
        post.uow, order, body.amount_cents, body.reason, post.idempotency_key
    )
    post.answered(created)
    return await order_page(post.uow.session, order, post.user)


@router.post("/{order_id}/messages", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
async def post_message(
    body: MessageIn, order: PartyOrder, uow: UnitOfWorkDep, user: CurrentUser
) -> OrderOut:
    order = await service.add_message(uow, order, user, body.body)
    return await order_page(uow.session, order, user)
