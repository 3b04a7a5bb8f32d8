"""Why did a vendor (not) hear about a notification: its story from stored facts only.

Nothing here is recorded for the console: each fact is a row the service writes anyway
(the notification and its receipts, held pushes, push deliveries and their devices,
an order's reminder row and emails, marketplace webhooks). What the preferences decided
is not stored, so it is told from what it left behind (a held row, deliveries, an inbox
row that was never unread) and, where nothing is left, from the settings as they are now,
said to be so. A device pruned after a 404/410 loses its label: the timeline says that.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton, format_time
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.console.activity_schemas import (
    ActivityDeviceOut,
    ActivityOut,
    EventKind,
    NotificationActivityOut,
    TimelineEventOut,
    UserMatchOut,
)
from server.core.errors import Invalid, NotFound
from server.core.ids import parse_id
from server.core.languages import Language
from server.core.unit_of_work import UnitOfWork
from server.integrations.webhooks.models import WebhookDelivery
from server.mail.models import OutgoingEmail
from server.mail.transport import BAD_ADDRESS, REFUSED, SETTINGS, UNREACHABLE
from server.notifications.inbox import decode_cursor, encode_cursor
from server.notifications.models import Notification
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.notifications.preferences.models import HeldPush
from server.orders.alerts.models import OrderReminder
from server.orders.models import Order
from server.orders.shop.models import ShopOrder
from server.push.models import PushDelivery, PushSubscription

MAX_MATCHES = 10  # users listed when a search names several
GONE = (404, 410)  # RFC 8030: the subscription no longer exists (server.push.sender)
ROWS_PER_PAGE = 500  # a bound on the webhook or digest rows read for one page


@dataclass(frozen=True)
class Search:
    q: str | None = None
    notification: str | None = None
    order: str | None = None
    failed_only: bool = False
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 20


def time_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"{name!r} is not an IANA time zone (e.g. Europe/Berlin).", code="invalid_time_zone"
        ) from exc


def _aware(value: datetime | None) -> datetime | None:
    """A query's time without an offset is taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# -- who -------------------------------------------------------------------------------


def _match(user: User) -> UserMatchOut:
    return UserMatchOut(
        id=str(user.id),
        name=user.name,
        email=user.email,
        role=user.role,
        sub=user.external_sub,
        shop_name=user.shop_name,
    )


async def find_users(session: AsyncSession, q: str) -> list[User]:
    """Who `q` names: an exact id, email or marketplace `sub` first; else names and
    emails containing it (at most MAX_MATCHES)."""
    text = q.strip()
    exact: list[ColumnElement[bool]] = [
        func.lower(User.email) == text.lower(),
        User.external_sub == text,
    ]
    if (user_id := parse_id(text)) is not None:
        exact.append(User.id == user_id)
    found = list(await session.scalars(select(User).where(or_(*exact)).limit(MAX_MATCHES)))
    if found:
        return found
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern += "%"
    return list(
        await session.scalars(
            select(User)
            .where(
                or_(
                    func.lower(User.name).like(pattern, escape="\\"),
                    func.lower(User.email).like(pattern, escape="\\"),
                    func.lower(func.coalesce(User.shop_name, "")).like(pattern, escape="\\"),
                )
            )
            .order_by(User.id)
            .limit(MAX_MATCHES)
        )
    )


# -- which notifications -----------------------------------------------------------------


def _failed_clause() -> ColumnElement[bool]:
    """A push that failed or expired, or an email about the notification's order that failed."""
    push_failed = exists().where(
        PushDelivery.notification_id == Notification.id,
        PushDelivery.status.in_(("failed", "expired")),
    )
    email_failed = exists().where(
        OrderReminder.notification_id == Notification.id,
        OutgoingEmail.order_id == OrderReminder.order_id,
        OutgoingEmail.status == "failed",
    )
    shop_email_failed = exists().where(  # named by the shop order's key (see _shop_emails)
        OrderReminder.notification_id == Notification.id,
        ShopOrder.id == OrderReminder.shop_order_id,
        OutgoingEmail.order_id.is_(None),
        OutgoingEmail.user_id == OrderReminder.vendor_id,
        OutgoingEmail.status == "failed",
        OutgoingEmail.message_id.contains("." + ShopOrder.key + "."),
    )
    return or_(push_failed, email_failed, shop_email_failed)


def _order_clause(order: Order) -> ColumnElement[bool]:
    """The order's notifications: its vendor's and customer's that name it."""
    names_it: ColumnElement[bool] = Notification.data["order_id"].as_string() == str(order.id)
    return and_(Notification.user_id.in_((order.vendor_id, order.customer_id)), names_it)


async def _scope(
    session: AsyncSession, search: Search
) -> tuple[Select[Notification], User | None, list[User]]:
    stmt = select(Notification)
    user: User | None = None
    matches: list[User] = []
    if search.notification is not None:
        notification_id = parse_id(search.notification)
        if notification_id is None:
            raise Invalid("A notification id is digits.", code="invalid_id")
        if await session.get(Notification, notification_id) is None:
            raise NotFound("No such notification.", code="notification_not_found")
        stmt = stmt.where(Notification.id == notification_id)
    if search.order is not None:
        order_id = parse_id(search.order)
        if order_id is None:
            raise Invalid("An order id is digits.", code="invalid_id")
        order = await session.get(Order, order_id)
        if order is None:
            raise NotFound("No such order.", code="order_not_found")
        stmt = stmt.where(_order_clause(order))
    if search.q is not None:
        matches = await find_users(session, search.q)
        if not matches:
            raise NotFound("No user has this name, email, id or sub.", code="user_not_found")
        if len(matches) == 1:
            user = matches[0]
            stmt = stmt.where(Notification.user_id == user.id)
    if search.notification is None and search.order is None and search.q is None:
        raise Invalid("Search by q, notification or order.", code="search_required")
    return stmt, user, matches


async def search(uow: UnitOfWork, search: Search, lang: Language, zone: tzinfo) -> ActivityOut:
    """One page of notifications, newest first, each with its sentence and timeline."""
    session = uow.session
    since, until = _aware(search.since), _aware(search.until)
    if since and until and since > until:
        raise Invalid("`since` is after `until`.", code="invalid_range")
    before = decode_cursor(search.cursor) if search.cursor else None
    stmt, user, matches = await _scope(session, search)
    if len(matches) > 1:
        return ActivityOut(
            user=None, matches=[_match(m) for m in matches], items=[], next_cursor=None
        )
    if search.type:
        stmt = stmt.where(Notification.type == search.type)
    if since:
        stmt = stmt.where(Notification.created_at >= since)
    if until:
        stmt = stmt.where(Notification.created_at < until)
    if search.failed_only:
        stmt = stmt.where(_failed_clause())
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    rows = list(
        await session.scalars(stmt.order_by(Notification.id.desc()).limit(search.limit + 1))
    )
    more = len(rows) > search.limit
    rows = rows[: search.limit]
    if user is None and rows and len({row.user_id for row in rows}) == 1:
        user = await session.get(User, rows[0].user_id)
    facts = await _gather(uow, rows)
    writer = Writer(lang, zone)
    items = [story(row, facts, writer) for row in rows]
    return ActivityOut(
        user=_match(user) if user else None,
        matches=[_match(user)] if user else [],
        items=items,
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


# -- the facts of a page -----------------------------------------------------------------


@dataclass
class Facts:
    deliveries: dict[int, list[tuple[PushDelivery, PushSubscription | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    held: dict[int, HeldPush] = field(default_factory=dict)
    reminders: dict[int, OrderReminder] = field(default_factory=dict)
    emails: dict[int, list[OutgoingEmail]] = field(default_factory=lambda: defaultdict(list))
    webhooks: dict[int, list[WebhookDelivery]] = field(default_factory=lambda: defaultdict(list))
    prefs: dict[int, rules.Preferences] = field(default_factory=dict)
    devices: dict[int, list[PushSubscription]] = field(default_factory=lambda: defaultdict(list))
    # (user id, type) -> when quiet-hours digests of that type were queued for the user.
    digests: dict[tuple[int, str], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )


async def _gather(uow: UnitOfWork, rows: Sequence[Notification]) -> Facts:
    """Every stored fact about the page's notifications, a query per kind."""
    facts = Facts()
    if not rows:
        return facts
    session = uow.session
    ids = [row.id for row in rows]
    found = await session.execute(
        select(PushDelivery, PushSubscription)
        .outerjoin(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
        .where(PushDelivery.notification_id.in_(ids))
        .order_by(PushDelivery.id)
    )
    for delivery, subscription in found:
        facts.deliveries[delivery.notification_id].append((delivery, subscription))
    for held in await session.scalars(select(HeldPush).where(HeldPush.notification_id.in_(ids))):
        facts.held[held.notification_id] = held
    reminders = await session.scalars(
        select(OrderReminder).where(OrderReminder.notification_id.in_(ids))
    )
    for reminder in reminders:
        facts.reminders[reminder.notification_id] = reminder
    by_order = {r.order_id: r.notification_id for r in facts.reminders.values() if r.order_id}
    if by_order:
        emails = await session.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.order_id.in_(list(by_order)))
            .order_by(OutgoingEmail.id)
        )
        for email in emails:
            assert email.order_id is not None
            facts.emails[by_order[email.order_id]].append(email)
    await _shop_emails(session, facts)
    user_ids = sorted({row.user_id for row in rows})
    for user_id in user_ids:
        facts.prefs[user_id] = await preferences.load(uow, user_id)
    subscriptions = await session.scalars(
        select(PushSubscription)
        .where(PushSubscription.user_id.in_(user_ids))
        .order_by(PushSubscription.id)
    )
    for subscription in subscriptions:
        facts.devices[subscription.user_id].append(subscription)
    await _webhooks(session, rows, facts)
    await _digests(session, [r for r in rows if r.id not in facts.deliveries], facts)
    return facts


async def _digests(session: AsyncSession, rows: Sequence[Notification], facts: Facts) -> None:
    """The digests that may have stood for notifications without a push of their own: a
    digest of several is a delivery of the latest held one only (server.notifications.
    preferences.digest), its payload's event `<type>.digest`."""
    if not rows:
        return
    pairs = {(row.user_id, row.type) for row in rows}
    found = await session.execute(
        select(PushDelivery.created_at, Notification.user_id, Notification.type)
        .join(Notification, Notification.id == PushDelivery.notification_id)
        .where(
            Notification.user_id.in_({user for user, _ in pairs}),
            PushDelivery.created_at >= min(row.created_at for row in rows),
            or_(*(PushDelivery.payload.contains(f'"event":"{type}.digest"') for _, type in pairs)),
        )
        .limit(ROWS_PER_PAGE)
    )
    for created_at, user_id, type in found:
        facts.digests[(user_id, type)].append(created_at)


async def _shop_emails(session: AsyncSession, facts: Facts) -> None:
    """A marketplace order's emails: their rows name no order (server.orders.shop.emails),
    only its key, inside the Message-ID made from `<key>.<reason>`."""
    shops = {r.shop_order_id: r for r in facts.reminders.values() if r.shop_order_id}
    if not shops:
        return
    found = await session.execute(
        select(ShopOrder.id, ShopOrder.key).where(ShopOrder.id.in_(shops))
    )
    keys = {key: shops[shop_id] for shop_id, key in found}
    if not keys:
        return
    emails = await session.scalars(
        select(OutgoingEmail)
        .where(
            OutgoingEmail.order_id.is_(None),
            OutgoingEmail.user_id.in_({r.vendor_id for r in keys.values()}),
            or_(*(OutgoingEmail.message_id.contains(f".{key}.", autoescape=True) for key in keys)),
        )
        .order_by(OutgoingEmail.id)
    )
    for email in emails:
        for key, reminder in keys.items():
            if (
                f".{key}.{email.reason}@" in email.message_id
                and email.user_id == reminder.vendor_id
            ):
                facts.emails[reminder.notification_id].append(email)


async def _webhooks(session: AsyncSession, rows: Sequence[Notification], facts: Facts) -> None:
    """A marketplace vendor's webhook events about these notifications. The outbox names
    the notification only inside the event's body, so candidates are read by the
    vendor's integration and time, then kept when their body names one of the page's."""
    users = await session.execute(
        select(User.id, User.integration_id).where(
            User.id.in_({row.user_id for row in rows}), User.integration_id.is_not(None)
        )
    )
    integrations = {integration for _, integration in users if integration}
    if not integrations:
        return
    ids = {row.id for row in rows}
    candidates = await session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.integration_id.in_(integrations),
            WebhookDelivery.type.like("notification.%"),
            WebhookDelivery.created_at >= min(row.created_at for row in rows),
            or_(*(WebhookDelivery.body.contains(f'"notification_id":{i}') for i in ids)),
        )
        .order_by(WebhookDelivery.id)
        .limit(ROWS_PER_PAGE)
    )
    for webhook in candidates:
        try:
            data: dict[str, Any] = json.loads(webhook.body).get("data", {})
        except (ValueError, AttributeError):
            continue
        if data.get("notification_id") in ids:
            facts.webhooks[int(data["notification_id"])].append(webhook)


# -- the words ---------------------------------------------------------------------------


class Writer:
    """Dates, times and device names in the admin's language and time zone."""

    def __init__(self, lang: Language, zone: tzinfo) -> None:
        self.lang = lang
        self.zone = zone

    def time(self, value: datetime) -> str:
        return format_time(value, "short", tzinfo=self.zone, locale=self.lang.code)

    def date(self, value: datetime) -> str:
        return format_skeleton("MMMd", value.astimezone(self.zone), locale=self.lang.code)

    def device(self, subscription: PushSubscription | None) -> str:
        if subscription is None:
            return self.lang.gettext("a removed device")
        return subscription.label or self.lang.gettext("an unnamed device")

    def mail_error(self, error: str | None) -> str:
        """The stored failure as one of the fixed sentences (the server's reply stays in
        the logs, server.mail.transport), translated."""
        lang = self.lang
        words = {
            REFUSED: lang.gettext("the mail server refused the message"),
            UNREACHABLE: lang.gettext("could not reach the mail server"),
            BAD_ADDRESS: lang.gettext("the email address cannot be used with this mail server"),
            SETTINGS: lang.gettext("the mail server settings need to be fixed"),
        }
        return words.get(error or "", lang.gettext("the email could not be sent"))


def _device_out(subscription: PushSubscription | None) -> ActivityDeviceOut:
    if subscription is None:
        return ActivityDeviceOut(id=None, known=False, label=None, service=None, muted=None)
    return ActivityDeviceOut(
        id=str(subscription.id),
        known=True,
        label=subscription.label,
        service=urlsplit(subscription.endpoint).hostname,
        muted=subscription.muted,
    )


def _payload_event(delivery: PushDelivery) -> str:
    try:
        event = json.loads(delivery.payload)["notification"]["data"]["event"]
    except (ValueError, KeyError, TypeError):
        return ""
    return event if isinstance(event, str) else ""


def _delivery_kind(notification: Notification, delivery: PushDelivery) -> EventKind:
    """The push itself, an order's reminder, a quiet-hours digest, or an order's update
    (accepted, declined: server.orders.alerts) sent as a further delivery of it."""
    event = _payload_event(delivery)
    if event == "order.reminder":
        return "reminder"
    if event.endswith(".digest"):
        return "digest"
    if event and event != notification.event:
        return "update"
    return "push"


def _inbox_off(notification: Notification) -> bool:
    """A push-only notification is written already read (server.notifications.service):
    read before it was even created, which no person can do."""
    return (
        notification.read_at is not None
        and not notification.read_in_bulk
        and notification.read_at <= notification.created_at
    )


@dataclass
class _Device:
    subscription: PushSubscription | None
    deliveries: list[PushDelivery] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(d.status == "delivered" for d in self.deliveries)

    @property
    def last(self) -> PushDelivery:
        return self.deliveries[-1]


def _devices(pairs: list[tuple[PushDelivery, PushSubscription | None]]) -> list[_Device]:
    """The devices a notification's pushes went to. A delivery whose subscription was
    deleted is a device of its own: its row no longer says which one it was."""
    devices: dict[object, _Device] = {}
    for delivery, subscription in pairs:
        key: object = (
            delivery.subscription_id if delivery.subscription_id else ("gone", delivery.id)
        )
        devices.setdefault(key, _Device(subscription)).deliveries.append(delivery)
    return list(devices.values())


def _push_line(kind: EventKind, d: PushDelivery, sub: PushSubscription | None, w: Writer) -> str:
    lang = w.lang
    name = w.device(sub)
    what = {
        "push": lang.gettext("Push"),
        "reminder": lang.gettext("Reminder"),
        "digest": lang.gettext("Quiet-hours digest"),
        "update": lang.gettext("Order update"),
    }[kind]
    if d.status == "delivered":
        return lang.gettext("{what} delivered to {device}").format(what=what, device=name)
    if d.status == "failed" and d.last_status in GONE:
        return lang.gettext(
            "{what} to {device}: the push service answered {status}, the subscription has "
            "expired and was removed (its name was not kept)"
        ).format(what=what, device=name, status=d.last_status)
    if d.status == "failed":
        return lang.gettext("{what} to {device} failed").format(what=what, device=name)
    if d.status == "expired":
        return lang.gettext("{what} to {device} expired undelivered").format(what=what, device=name)
    if d.attempts:
        return lang.gettext("{what} to {device}: retried at {time}").format(
            what=what, device=name, time=w.time(d.due_at)
        )
    return lang.gettext("{what} to {device} queued").format(what=what, device=name)


def _push_event(
    n: Notification, d: PushDelivery, sub: PushSubscription | None, w: Writer
) -> TimelineEventOut:
    kind = _delivery_kind(n, d)
    latency = None
    if d.delivered_at is not None:
        latency = max(0, int((d.delivered_at - d.created_at).total_seconds() * 1000))
    return TimelineEventOut(
        at=d.delivered_at or d.created_at,
        kind=kind,
        status=d.status,
        text=_push_line(kind, d, sub, w),
        device=_device_out(sub),
        attempts=d.attempts,
        status_code=d.last_status,
        error=d.error,
        latency_ms=latency,
        next_retry_at=d.due_at if d.status == "queued" else None,
        pruned=d.status == "failed" and d.last_status in GONE,
    )


def _decision(n: Notification, facts: Facts, w: Writer) -> list[TimelineEventOut]:
    """What the preferences decided, from what it left behind."""
    lang = w.lang
    prefs = facts.prefs.get(n.user_id) or rules.Preferences(types={}, quiet=rules.QuietHours())
    events: list[TimelineEventOut] = []

    def say(text: str, status: str | None = None, kind: EventKind = "decision") -> None:
        events.append(TimelineEventOut(at=n.created_at, kind=kind, status=status, text=text))

    if _inbox_off(n):
        say(lang.gettext("Not kept in the inbox: the preferences want a push only"), "push_only")
    else:
        say(lang.gettext("Kept in the inbox"), "inbox")
    pairs = facts.deliveries.get(n.id, [])
    kinds = {_delivery_kind(n, d) for d, _ in pairs}
    held = facts.held.get(n.id)
    quiet = prefs.quiet
    window = lang.gettext("{start} to {end} ({zone})").format(
        start=f"{quiet.start // 60:02d}:{quiet.start % 60:02d}",
        end=f"{quiet.end // 60:02d}:{quiet.end % 60:02d}",
        zone=quiet.time_zone,
    )
    if held is not None:
        events.append(
            TimelineEventOut(
                at=held.created_at,
                kind="held",
                status="held",
                text=lang.gettext(
                    "Push held by quiet hours {window}: it goes out in a digest when they end"
                ).format(window=window),
            )
        )
    elif "push" in kinds and (released := _released(n, prefs, facts)) is not None:
        events.append(
            TimelineEventOut(
                at=n.created_at,
                kind="held",
                status="released",
                text=lang.gettext(
                    "Push held by quiet hours {window} (current settings), then sent at {time}"
                ).format(window=window, time=w.time(released)),
            )
        )
    elif "push" in kinds:
        say(lang.gettext("Push sent at once"), "push_now")
    elif "digest" in kinds:
        say(lang.gettext("Push held by quiet hours, then sent in a digest"), "held")
    else:
        say(_no_push(n, prefs, facts, w), "no_push")
    muted = [d for d in facts.devices.get(n.user_id, []) if d.muted]
    if muted:
        names = ", ".join(w.device(d) for d in muted)
        say(
            lang.gettext("Muted devices get no pushes (muted now): {devices}").format(
                devices=names
            ),
            "muted",
        )
    return events


# A push sent at once is queued in the notification's own transaction; one queued this
# much later was held and released (the digest of a single held push is the push itself).
RELEASED_AFTER = timedelta(seconds=30)


def _released(n: Notification, prefs: rules.Preferences, facts: Facts) -> datetime | None:
    """When a push held by quiet hours went out after all, if this one was: its first
    delivery came long after it, and the quiet hours (as set now) covered its creation."""
    firsts = [d.created_at for d, _ in facts.deliveries.get(n.id, [])]
    rings = n.event == "order.created" and prefs.quiet.orders_ring
    if not firsts or rings or not prefs.quiet.active(n.created_at):
        return None
    first = min(firsts)
    return first if first - n.created_at > RELEASED_AFTER else None


def _no_push(n: Notification, prefs: rules.Preferences, facts: Facts, w: Writer) -> str:
    """Why no push went, told from the settings as they are now (the decision itself is
    not stored, so the sentence says which facts it rests on)."""
    lang = w.lang
    if not prefs.channels(n.type).push:
        return lang.gettext("No push: pushes are switched off for this type (current settings)")
    existed = [d for d in facts.devices.get(n.user_id, []) if d.created_at <= n.created_at]
    if not existed:
        return lang.gettext("No push: the user had no device subscribed then")
    if all(d.muted for d in existed):
        return lang.gettext("No push: every device is muted (now)")
    rings = n.event == "order.created" and prefs.quiet.orders_ring
    if prefs.quiet.active(n.created_at) and not rings:
        # Held, then released: a digest of several stands for all, pointing at the latest.
        later = [at for at in facts.digests.get((n.user_id, n.type), []) if at >= n.created_at]
        if later:
            return lang.gettext(
                "No push of its own: it came in the quiet hours (current settings) and a "
                "digest sent at {time} stood for it"
            ).format(time=w.time(min(later)))
        return lang.gettext(
            "No push: it came in the quiet hours (current settings) and no digest followed"
        )
    return lang.gettext("No push was queued (what the preferences decided is not stored)")


def _reminder_event(reminder: OrderReminder, w: Writer) -> TimelineEventOut:
    lang = w.lang
    if reminder.status == "active":
        text = lang.gettext(
            "Order reminders: {sent} of {max} sent; the next is due at {time}"
        ).format(sent=reminder.sent, max=reminder.max_repeats, time=w.time(reminder.next_due_at))
    else:
        text = lang.gettext("Order reminders: {sent} of {max} sent, then stopped").format(
            sent=reminder.sent, max=reminder.max_repeats
        )
    if reminder.push_failed:
        text += lang.gettext("; every push so far failed, so the order is emailed")
    return TimelineEventOut(
        at=reminder.finished_at or reminder.created_at,
        kind="reminder",
        status=reminder.status,
        text=text,
        next_retry_at=reminder.next_due_at if reminder.status == "active" else None,
    )


def _email_event(email: OutgoingEmail, w: Writer) -> TimelineEventOut:
    lang = w.lang
    reason = {
        "no_device": lang.gettext("no device to ring"),
        "push_failed": lang.gettext("every push failed"),
        "unanswered": lang.gettext("the order is unanswered"),
    }.get(email.reason, email.reason)
    error = w.mail_error(email.last_error) if email.last_error else None
    if email.status == "sent":
        text = lang.gettext("Emailed ({reason})").format(reason=reason)
    elif email.status == "failed":
        text = lang.gettext("Email ({reason}) failed: {error}").format(reason=reason, error=error)
    else:
        text = lang.gettext("Email ({reason}) queued; next try at {time}").format(
            reason=reason, time=w.time(email.due_at)
        )
    return TimelineEventOut(
        at=email.sent_at or email.created_at,
        kind="email",
        status=email.status,
        text=text,
        attempts=email.attempts,
        error=error,
        next_retry_at=email.due_at if email.status == "queued" else None,
    )


def _receipts(n: Notification, w: Writer) -> list[TimelineEventOut]:
    lang = w.lang
    events = []
    if n.shown_at:
        events.append((n.shown_at, "shown", lang.gettext("Shown on a device")))
    if n.clicked_at:
        events.append((n.clicked_at, "clicked", lang.gettext("Clicked")))
    if n.read_at and not _inbox_off(n):
        text = (
            lang.gettext("Marked read with all the others")
            if n.read_in_bulk
            else lang.gettext("Read")
        )
        events.append((n.read_at, "read", text))
    return [TimelineEventOut(at=at, kind="receipt", status=s, text=t) for at, s, t in events]


def _webhook_event(webhook: WebhookDelivery, w: Writer) -> TimelineEventOut:
    lang = w.lang
    if webhook.status == "delivered":
        text = lang.gettext("Webhook {event} delivered to the marketplace")
    elif webhook.status == "failed":
        text = lang.gettext("Webhook {event} failed")
    else:
        text = lang.gettext("Webhook {event} queued")
    return TimelineEventOut(
        at=webhook.delivered_at or webhook.created_at,
        kind="webhook",
        status=webhook.status,
        text=text.format(event=webhook.type),
        attempts=webhook.attempts,
        status_code=webhook.last_status,
        error=webhook.error,
        next_retry_at=webhook.due_at if webhook.status == "queued" else None,
    )


def story(n: Notification, facts: Facts, w: Writer) -> NotificationActivityOut:
    """The notification's timeline, oldest first, and the sentence that sums it up."""
    lang = w.lang
    created = TimelineEventOut(
        at=n.created_at,
        kind="created",
        status=None,
        text=lang.gettext("Created: {type} ({event})").format(type=n.type, event=n.event),
    )
    timeline = [created, *_decision(n, facts, w)]
    pairs = facts.deliveries.get(n.id, [])
    timeline += [_push_event(n, d, sub, w) for d, sub in pairs]
    if (reminder := facts.reminders.get(n.id)) is not None:
        timeline.append(_reminder_event(reminder, w))
    emails = facts.emails.get(n.id, [])
    timeline += [_email_event(email, w) for email in emails]
    timeline += _receipts(n, w)
    timeline += [_webhook_event(hook, w) for hook in facts.webhooks.get(n.id, [])]
    # Stable: facts of the same moment keep the order they are told in.
    first = timeline[:1]
    rest = sorted(timeline[1:], key=lambda e: e.at or n.created_at)
    failed = any(d.status in ("failed", "expired") for d, _ in pairs) or any(
        e.status == "failed" for e in emails
    )
    return NotificationActivityOut(
        id=str(n.id),
        user_id=str(n.user_id),
        type=n.type,
        event=n.event,
        title=n.title,
        created_at=n.created_at,
        failed=failed,
        sentence=sentence(n, facts, w),
        timeline=[*first, *rest],
    )


def sentence(n: Notification, facts: Facts, w: Writer) -> str:
    """'Delivered to 2 of 3 devices; a removed device's subscription expired on 3 Dec
    (410) and was removed; emailed at 14:05.'"""
    lang = w.lang
    devices = _devices(facts.deliveries.get(n.id, []))
    parts = _push_parts(devices, w)
    prefs = facts.prefs.get(n.user_id) or rules.Preferences(types={}, quiet=rules.QuietHours())
    if n.id in facts.held:
        parts.append(lang.gettext("the push is held by quiet hours"))
    elif devices and (released := _released(n, prefs, facts)) is not None:
        parts.insert(
            0, lang.gettext("held by quiet hours until {time}").format(time=w.time(released))
        )
    elif not devices:
        reason = _no_push(n, prefs, facts, w)
        parts.append(reason[0].lower() + reason[1:])
    parts += [_email_part(email, w) for email in facts.emails.get(n.id, [])]
    if n.clicked_at:
        parts.append(lang.gettext("opened at {time}").format(time=w.time(n.clicked_at)))
    elif n.read_at and not n.read_in_bulk and not _inbox_off(n):
        parts.append(lang.gettext("read at {time}").format(time=w.time(n.read_at)))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _push_parts(devices: list[_Device], w: Writer) -> list[str]:
    """'delivered to 1 of 2 devices', then why each device that did not get it did not."""
    if not devices:
        return []
    lang = w.lang
    delivered = sum(1 for d in devices if d.delivered)
    parts = [
        lang.ngettext(
            "delivered to {delivered} of {total} device",
            "delivered to {delivered} of {total} devices",
            len(devices),
        ).format(delivered=delivered, total=len(devices))
    ]
    for device in devices:
        if device.delivered:
            continue
        last, name = device.last, w.device(device.subscription)
        if last.status == "failed" and last.last_status in GONE:
            parts.append(
                lang.gettext(
                    "the subscription of {device} expired on {date} ({status}) and was removed"
                ).format(device=name, date=w.date(last.created_at), status=last.last_status)
            )
        elif last.status == "failed":
            code = f" ({last.last_status})" if last.last_status else ""
            parts.append(
                lang.gettext("the push to {device} failed{code}").format(device=name, code=code)
            )
        elif last.status == "expired":
            parts.append(
                lang.gettext("the push to {device} expired undelivered").format(device=name)
            )
        else:
            parts.append(
                lang.gettext("the push to {device} is tried again at {time}").format(
                    device=name, time=w.time(last.due_at)
                )
            )
    return parts


def _email_part(email: OutgoingEmail, w: Writer) -> str:
    lang = w.lang
    if email.status == "sent" and email.sent_at:
        return lang.gettext("emailed at {time}").format(time=w.time(email.sent_at))
    if email.status == "failed":
        return lang.gettext("the email failed: {error}").format(
            error=w.mail_error(email.last_error)
        )
    return lang.gettext("an email is queued")
