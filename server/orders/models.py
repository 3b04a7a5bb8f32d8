"""Orders and what happens to them: items, payments and refunds, messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import User
from server.core.db import Base, UTCDateTime, utcnow

# Money in cents is 64-bit: an order may total up to 10^14 cents (100 items of 10,000 at
# 10^8), far past PostgreSQL's 32-bit INTEGER. SQLite's INTEGER is already 64-bit.
Cents = BigInteger().with_variant(Integer(), "sqlite")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # Retried POSTs with the same Idempotency-Key find the first order.
        UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_idempotency"),
        Index("ix_orders_vendor_id_id", "vendor_id", "id"),
        Index("ix_orders_customer_id_id", "customer_id", "id"),
        # Numbers count per vendor (server.orders.numbers); never two alike for one.
        UniqueConstraint("vendor_id", "number", name="uq_orders_vendor_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "#1" is each vendor's first order: the marketplace's volume is nobody's business.
    # Orders older than per-vendor numbers keep the number they were shown with (their id).
    number: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int] = mapped_column(Cents)
    paid_cents: Mapped[int] = mapped_column(Cents, default=0)
    refunded_cents: Mapped[int] = mapped_column(Cents, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # When the order left `pending` (accepted, rejected or cancelled), and when it was
    # accepted: a later cancellation keeps that. NULL for orders older than these columns.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[User] = relationship(foreign_keys=[customer_id], lazy="raise")
    vendor: Mapped[User] = relationship(foreign_keys=[vendor_id], lazy="raise")
    items: Mapped[list[OrderItem]] = relationship(
        lazy="raise", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list[OrderPayment]] = relationship(
        lazy="raise", order_by="OrderPayment.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[OrderMessage]] = relationship(
        lazy="raise", order_by="OrderMessage.id", cascade="all, delete-orphan"
    )

    @property
    def outstanding_cents(self) -> int:
        """What is still to pay: the total less what was paid. A refund is money given
        back (an item that could not be made, a goodwill gesture): it lowers what the
        order costs as much as what was kept, so it never reopens the bill."""
        return max(0, self.total_cents - self.paid_cents)


class OrderCounter(Base):
    """The last order number a vendor gave (server.orders.numbers)."""

    __tablename__ = "order_counters"

    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(Integer)


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Cents)


class OrderPayment(Base):
    """Money in (`payment`) or back out (`refund`)."""

    __tablename__ = "order_payments"
    __table_args__ = (
        # A retried POST with the same Idempotency-Key records once (server.orders.idempotency).
        Index("uq_order_payments_idempotency", "recorded_by_id", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    amount_cents: Mapped[int] = mapped_column(Cents)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who recorded it (the paying customer, or the vendor: cash, refunds), with the
    # request's Idempotency-Key and digest; NULL for rows older than these columns.
    recorded_by_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))


class OrderMessage(Base):
    __tablename__ = "order_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
