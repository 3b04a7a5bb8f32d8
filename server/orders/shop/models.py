"""A marketplace's order, known by its `order_ref`: what its reminders and emails need.

A shop order has no row in `orders` (vendorbell never sees its items, customer or
payments); this row is what the marketplace told, the status it reported last and the
`order.created` notification that its reminders and its answer replace on lock screens.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, utcnow

SHOP_STATES = ("pending", "accepted", "rejected", "cancelled")


def order_key(source: str, vendor_id: int, order_ref: str) -> str:
    """`shop-<16 hex>`: the push tag and Topic suffix of one shop order, stable per
    (marketplace, vendor, order_ref), within the Topic's 32 base64url characters."""
    digest = hashlib.sha256(f"{source}\n{vendor_id}\n{order_ref}".encode()).hexdigest()
    return f"shop-{digest[:16]}"


class ShopOrder(Base):
    __tablename__ = "shop_orders"
    __table_args__ = (
        UniqueConstraint("vendor_id", "source", "order_ref", name="uq_shop_orders_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Whose order_ref it is: the integration's id, or `key:<id>` for a key of none.
    source: Mapped[str] = mapped_column(String(64))
    order_ref: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(32))  # order_key(): the push tag's suffix
    status: Mapped[str] = mapped_column(String(16), default="pending")
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL")
    )
    customer: Mapped[str | None] = mapped_column(String(200))
    total_cents: Mapped[int | None] = mapped_column(BigInteger)
    item_count: Mapped[int | None] = mapped_column(Integer)  # None: the shop did not say
    currency: Mapped[str | None] = mapped_column(String(3))
    url: Mapped[str | None] = mapped_column(String(500))
    # The fallback email reasons queued for it, space-separated: each goes once.
    emailed: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def number(self) -> str:
        """What texts show after "order #": the marketplace's own order number."""
        return self.order_ref
