"""Fallback emails about a shop's order: the native order's wording, from what the shop told.

Each reason goes once per shop order (`ShopOrder.emailed`: the outbox's unique
(order_id, reason) holds only for native orders); written by the one queueing path
(server.orders.alerts.emails.queue_email), sent by the mail loop (server.mail.outbox).
"""

from __future__ import annotations

from server.core.unit_of_work import UnitOfWork
from server.mail.schemas import EmailReason
from server.notifications.preferences import rules
from server.orders.alerts import email_texts as texts
from server.orders.alerts.emails import queue_email, wants_no_device_email
from server.orders.shop.models import ShopOrder


def facts_of(shop: ShopOrder) -> texts.OrderFacts:
    """What the shop told of its order; what it left out the email leaves out."""
    return texts.OrderFacts(
        number=shop.order_ref,
        customer_name=shop.customer,
        currency=shop.currency,
        total_cents=shop.total_cents,
        count=shop.item_count,
        note=None,
        lines=[],
        path=shop.url or "/notifications",
    )


async def queue_shop_email(
    uow: UnitOfWork, shop: ShopOrder, reason: EmailReason, prefs: rules.Preferences | None = None
) -> bool:
    """Queue the vendor's email about `shop` for `reason` in the unit's transaction; False
    when order emails are off, the reason went already, or the vendor has no address."""
    if reason in shop.emailed.split():
        return False
    if not await queue_email(
        uow, shop.vendor_id, reason, facts_of(shop), key=shop.key, prefs=prefs
    ):
        return False
    shop.emailed = f"{shop.emailed} {reason}".strip()
    return True


async def queue_if_no_device(uow: UnitOfWork, shop: ShopOrder, prefs: rules.Preferences) -> bool:
    """For a new shop order: email the vendor when no unmuted push device will ring."""
    if not await wants_no_device_email(uow, shop.vendor_id, prefs):
        return False
    return await queue_shop_email(uow, shop, "no_device", prefs)
