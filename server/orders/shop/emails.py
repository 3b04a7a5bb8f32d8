"""Fallback emails about a shop's order: the native order's wording, from what the shop told.

Each reason goes once per shop order (`ShopOrder.emailed`), as the outbox's unique
(order_id, reason) does for native orders; the mail loop (server.mail.outbox) sends.
"""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import User
from server.core.languages import language
from server.core.links import absolute, link_base
from server.core.unit_of_work import UnitOfWork
from server.mail.message import SETTINGS_PATH, new_message_id
from server.mail.models import OutgoingEmail
from server.mail.schemas import EmailReason
from server.mail.signals import EMAILS_QUEUED
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.orders.alerts import email_texts as texts
from server.orders.shop.models import ShopOrder
from server.push.models import PushSubscription

# ISO 4217's code for "no currency": an amount sent without its currency.
NO_CURRENCY = "XXX"


async def queue_shop_email(
    uow: UnitOfWork, shop: ShopOrder, reason: EmailReason, prefs: rules.Preferences | None = None
) -> bool:
    """Queue the vendor's email about `shop` for `reason` in the unit's transaction; False
    when order emails are off, the reason went already, or the vendor has no address."""
    prefs = prefs or await preferences.load(uow, shop.vendor_id)
    if not prefs.channels("order").email or reason in shop.emailed.split():
        return False
    vendor = await uow.session.get(User, shop.vendor_id)
    if vendor is None or not vendor.email:
        return False
    public_url = uow.settings.public_url
    facts = texts.OrderFacts(
        number=shop.order_ref,
        vendor_name=vendor.name,
        customer_name=shop.customer or "—",
        currency=shop.currency or NO_CURRENCY,
        total_cents=shop.total_cents or 0,
        note=None,
        lines=[],
        link=absolute(await link_base(uow, vendor.id), shop.url or "/notifications"),
        settings_link=absolute(public_url, SETTINGS_PATH),
    )
    content = texts.render(facts, reason, language(vendor.locale))
    email = OutgoingEmail(
        user_id=vendor.id,
        order_id=None,
        reason=reason,
        recipient=vendor.email,
        subject=content.subject,
        text_body=content.text,
        html_body=content.html,
        message_id=new_message_id(public_url, f"{shop.key}.{reason}"),
        status="queued",
        attempts=0,
    )
    uow.session.add(email)
    await uow.session.flush()
    shop.emailed = f"{shop.emailed} {reason}".strip()
    email_id, signal = email.id, uow.signals[EMAILS_QUEUED]

    async def committed() -> None:
        signal.send([email_id])

    uow.after_commit(committed)
    return True


async def queue_if_no_device(uow: UnitOfWork, shop: ShopOrder, prefs: rules.Preferences) -> bool:
    """For a new shop order: email the vendor when no unmuted push device will ring."""
    if not prefs.channels("order").email:
        return False
    device = await uow.session.scalar(
        select(PushSubscription.id)
        .where(PushSubscription.user_id == shop.vendor_id, PushSubscription.muted.is_(False))
        .limit(1)
    )
    if device is not None:
        return False
    return await queue_shop_email(uow, shop, "no_device", prefs)
