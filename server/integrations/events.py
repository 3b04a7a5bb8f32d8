"""Receiving a shop's event: authenticate, deduplicate, find the vendor, notify them."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.accounts.service import OWN_ACCOUNT, normalize_email
from server.core.db import utcnow
from server.core.errors import AppError, Conflict, Invalid, NotAuthenticated
from server.core.ids import parse_id
from server.core.languages import Language, language
from server.core.unit_of_work import UnitOfWork
from server.integrations import keys, signature, vendors
from server.integrations.models import IntegrationEvent, IntegrationKey
from server.integrations.schemas import EventData, EventIn, EventOut, EventVendor
from server.integrations.sealing import UnsealError, unseal
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences
from server.notifications.preferences.rules import Preferences
from server.notifications.service import notify
from server.orders.shop import service as shop_orders
from server.orders.shop.models import ShopOrder
from server.orders.texts import items

log = logging.getLogger("vendorbell.integrations")

# The shop's answer to its order (server.orders.shop): the status each event reports.
_ANSWERS = {"order.accepted": "accepted", "order.rejected": "rejected"}

# event type → notification type
_NOTIFICATION_TYPE = {
    "order.created": "order",
    "order.accepted": "order",
    "order.rejected": "order",
    "order.cancelled": "order",
    "payment.received": "payment",
    "message.created": "message",
    "system.notice": "system",
}


def now() -> float:
    """The clock the replay window uses (tests may replace it)."""
    return time.time()


async def authenticate(
    session: AsyncSession, secret_key: str, key_id: str | None, sig: str | None, body: bytes
) -> IntegrationKey:
    if not key_id or not sig:
        raise NotAuthenticated(
            f"Send {signature.KEY_HEADER} and {signature.SIGNATURE_HEADER} headers.",
            code="missing_signature",
        )
    key = await keys.active_key(session, key_id[:40])
    if key is None:
        raise NotAuthenticated("Unknown or revoked integration key.", code="invalid_key")
    try:
        secret = unseal(secret_key, key.key_id, key.secret_sealed)
    except UnsealError as exc:  # SECRET_KEY changed since the key was issued
        log.error("integrations.key.unsealable", extra={"key_id": key.key_id})
        raise NotAuthenticated("This key must be re-issued.", code="invalid_key") from exc
    signature.verify(sig, secret, body, now())
    return key


def parse_event(body: bytes) -> EventIn:
    try:
        event = EventIn.model_validate(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise Invalid(f"{where}: {first['msg']}", code="invalid_event") from exc
        raise Invalid("The body is not valid JSON.", code="malformed_json") from exc
    if event.type in _ANSWERS and not event.data.order_ref:
        raise Invalid(f"data.order_ref: required for {event.type}", code="invalid_event")
    return event


def ignored_fields(event: EventIn) -> list[str]:
    """The `data` fields vendorbell does not know: said in the answer, never dropped silently."""
    return sorted(f"data.{name}" for name in event.data.model_extra or {})


async def find_vendor(session: AsyncSession, ref: str) -> User:
    key = parse_id(ref)
    # By email only among vendorbell's own accounts: a marketplace's vendors go by `sub`.
    condition = (
        User.id == key if key is not None else (User.email == normalize_email(ref)) & OWN_ACCOUNT
    )
    vendor = await session.scalar(select(User).where(condition, User.role == "vendor"))
    if vendor is None:
        raise Invalid("No vendor with this id or email.", code="unknown_vendor")
    return vendor


async def _vendor(uow: UnitOfWork, key: IntegrationKey, ref: str | EventVendor) -> User:
    if isinstance(ref, str):
        vendor = await find_vendor(uow.session, ref)
        if vendor.integration_id not in (None, key.integration_id):  # another marketplace's
            raise Invalid("No vendor with this id or email.", code="unknown_vendor")
        return vendor
    if key.integration_id is None:
        raise Invalid(
            "Name a vendor by sub only with a key of an integration.", code="unknown_vendor"
        )
    vendor, _ = await vendors.find_or_create(uow, key.integration_id, vendors.checked_sub(ref.sub))
    await vendors.apply_profile(uow, vendor, vendors.profile_of(ref))
    return vendor


def _money(data: EventData, lang: Language) -> str:
    if data.total_cents is None:
        return ""
    if data.currency is None:  # an amount without its currency: as a plain number
        return lang.decimal(data.total_cents)
    return lang.money(data.total_cents, data.currency)


def render(event: EventIn, lang: Language) -> tuple[str, str]:
    """Title and body for the vendor, from what the shop sent, in the vendor's language."""
    d = event.data
    ref = {"ref": d.order_ref}
    parts = [p for p in (d.customer, _money(d, lang)) if p]
    if event.type == "order.created":
        if d.items is not None:  # "Ada · 3 items · €12.50"
            parts.insert(1 if d.customer else 0, items(lang, d.items))
        title = lang.gettext("New order {ref}") if d.order_ref else lang.gettext("New order")
        return title.format(**ref), " · ".join(parts) or lang.gettext("A new order has arrived.")
    if event.type == "order.cancelled":
        title = (
            lang.gettext("Order {ref} cancelled")
            if d.order_ref
            else lang.gettext("Order cancelled")
        )
        return title.format(**ref), d.text or lang.gettext("The customer cancelled the order.")
    if event.type == "payment.received":
        if d.order_ref:
            parts.append(lang.gettext("order {ref}").format(**ref))
        return lang.gettext("Payment received"), " · ".join(parts)
    if event.type == "message.created":
        title = (
            lang.gettext("New message from {customer}")
            if d.customer
            else lang.gettext("New message")
        )
        return title.format(customer=d.customer), d.text or ""
    return d.title or lang.gettext("Notice"), d.text or ""


async def receive(uow: UnitOfWork, key: IntegrationKey, body: bytes) -> tuple[EventOut, bool]:
    """Store and notify once per (key, event id); (answer, created?)."""
    session = uow.session
    event = parse_event(body)
    digest = hashlib.sha256(body).hexdigest()
    seen = await session.scalar(
        select(IntegrationEvent).where(
            IntegrationEvent.key_id == key.id, IntegrationEvent.event_id == event.id
        )
    )
    if seen is not None:
        return _duplicate(seen, digest, event), False
    vendor = await _vendor(uow, key, event.vendor)
    row = IntegrationEvent(
        key_id=key.id, event_id=event.id, type=event.type, vendor_id=vendor.id, body_sha256=digest
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # the same event raced in on another connection
        raise Conflict("This event is being processed.", code="event_in_progress") from exc
    row.notification_id = await _act(uow, key, event, vendor)
    key.last_used_at = utcnow()
    log.info("integrations.event.accepted", extra={"key_id": key.key_id, "type": event.type})
    answer = EventOut(
        id=event.id,
        status="accepted",
        notification_id=row.notification_id,
        ignored_fields=ignored_fields(event),
    )
    return answer, True


async def _act(uow: UnitOfWork, key: IntegrationKey, event: EventIn, vendor: User) -> int | None:
    """What the event does; the id of the notification that stands for it."""
    ref = event.data.order_ref
    # A marketplace's order_refs are its own across its keys; a key of none, the key's.
    source = key.integration_id or f"key:{key.id}"
    shop = await shop_orders.find(uow, vendor.id, source, ref) if ref else None
    if event.type in _ANSWERS:
        if shop is None:
            raise Invalid(
                "No order with this order_ref: send its order.created first.",
                code="unknown_order",
            )
        await shop_orders.answer(uow, shop, _ANSWERS[event.type], by="vendor")
        return shop.notification_id
    if (
        event.type == "order.cancelled"
        and shop is not None
        and not await shop_orders.answer(uow, shop, "cancelled", by="customer")
    ):
        return shop.notification_id  # cancelled already: told once
    if not event.type.startswith("order."):  # a payment or message names the order only
        shop = None
    fresh = event.type == "order.created" and ref is not None and shop is None
    if fresh and ref is not None:
        shop = await shop_orders.new(
            uow,
            vendor.id,
            source,
            ref,
            customer=event.data.customer,
            total_cents=event.data.total_cents,
            item_count=event.data.items,
            currency=event.data.currency,
            url=event.data.url,
        )
    prefs = await preferences.load(uow, vendor.id)
    notification = await _notify(uow, event, vendor, shop, prefs)
    if fresh and shop is not None:
        await shop_orders.ring(uow, shop, notification, prefs)
    return notification.id


async def _notify(
    uow: UnitOfWork,
    event: EventIn,
    vendor: User,
    shop: ShopOrder | None,
    prefs: Preferences,
) -> Notification:
    lang = language(vendor.locale)
    title, text = render(event, lang)
    data: dict[str, Any] = {
        "source": "integration",
        "event_id": event.id,
        "order_ref": event.data.order_ref,
    }
    if shop is not None:  # its tag: every push of the order shows in one place
        data.update(shop_order=shop.key, status=shop.status)
    return await notify(
        uow,
        vendor.id,
        type=_NOTIFICATION_TYPE[event.type],
        event=event.type,
        title=title,
        body=text,
        url=event.data.url or "/notifications",
        data=data,
        lang=lang.code,
        prefs=prefs,
    )


def _duplicate(seen: IntegrationEvent, digest: str, event: EventIn) -> EventOut:
    if seen.body_sha256 != digest:
        raise AppError(
            "This event id was already used for a different event.",
            status=409,
            code="event_id_reused",
        )
    return EventOut(
        id=seen.event_id,
        status="duplicate",
        notification_id=seen.notification_id,
        ignored_fields=ignored_fields(event),
    )
