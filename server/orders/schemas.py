"""Order request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from server.core.ids import ID
from server.core.text import Line200, Note1000, Text2000
from server.orders.alerts.schemas import OrderAlertsOut

MAX_CENTS = 100_000_000  # one million in any currency: beyond that, a typo


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line200
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)]
    unit_price_cents: Annotated[StrictInt, Field(ge=0, le=MAX_CENTS)]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=100)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    note: Note1000 | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Note1000 | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["preparing", "shipped", "delivered", "cancelled"]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: Annotated[StrictInt, Field(ge=1, le=MAX_CENTS)]


class RefundIn(PaymentIn):
    reason: Note1000 | None = None


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Text2000


class PartyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    quantity: int
    unit_price_cents: int


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    amount_cents: int
    reason: str | None
    created_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    sender_id: ID
    body: str
    created_at: datetime


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    number: str
    vendor: PartyOut
    customer: PartyOut
    status: str
    items: list[ItemOut]
    currency: str
    total_cents: int
    paid_cents: int
    refunded_cents: int = Field(description="Money given back to the customer (refunds).")
    outstanding_cents: int = Field(
        description="Still to pay: `total_cents - paid_cents`, never below 0. A refund "
        "lowers what the order costs as much as what was kept: it never reopens the bill."
    )
    note: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime
    allowed_transitions: list[str]
    messages: list[MessageOut]
    payments: list[PaymentOut]
    alerts: OrderAlertsOut | None = Field(
        default=None,
        description="For the order's vendor, in the answers about this one order (not in "
        "lists): how it rang them. Null for the customer.",
    )
