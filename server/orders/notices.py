"""Who hears of what happens to an order, and what follows: one table, one `tell()`.

Each order event names its notification type, its recipients and its wording; `tell`
writes the notifications through the generic service (server.notifications.service).
The recipient's preferences are loaded once per event and handed to everything that
asks: the notification's decision and, for a new order, its reminders and the email
that goes out when no device will ring (server.orders.alerts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from server.accounts.models import User
from server.core.languages import Language
from server.core.unit_of_work import UnitOfWork
from server.notifications.preferences import service as preferences
from server.notifications.service import notify, recipient_language
from server.orders import texts
from server.orders.alerts import emails
from server.orders.alerts import service as alerts
from server.orders.models import Order

Party = Literal["vendor", "customer"]
Event = Literal[
    "order.created",
    "order.status",
    "payment.received",
    "payment.recorded",
    "payment.refunded",
    "message.created",
]


@dataclass(frozen=True)
class Said:
    """What an event carries beside the order."""

    by: str | None = None  # who changed the status, or who posted the message
    amount_cents: int = 0
    reason: str | None = None
    sender: User | None = None
    message: str = ""


Wording = Callable[[Order, Said, Party, Language], tuple[str, str]]


@dataclass(frozen=True)
class Notice:
    type: str  # the notification type (what preferences switch per type)
    to: Callable[[Order, Said], tuple[Party, ...]]
    wording: Wording
    event: str = ""  # the notification's event when not the key: `{status}` is filled in
    money: bool = False  # the data names the amount
    rings: bool = False  # a new order: reminders follow, and the email if nothing rings


def _other(said: Said) -> tuple[Party, ...]:
    return ("vendor",) if said.by == "customer" else ("customer",)


NOTICES: dict[Event, Notice] = {
    "order.created": Notice(
        "order", lambda o, s: ("vendor",), lambda o, s, to, lang: texts.order_created(o, lang),
        rings=True,
    ),
    "order.status": Notice(
        "order", lambda o, s: _other(s),
        lambda o, s, to, lang: texts.status_changed(o, s.by or "vendor", lang),
        event="order.{status}",
    ),
    "payment.received": Notice(
        "payment", lambda o, s: ("vendor",),
        lambda o, s, to, lang: texts.payment_received(o, s.amount_cents, lang),
        money=True,
    ),
    "payment.recorded": Notice(
        "payment", lambda o, s: ("customer",),
        lambda o, s, to, lang: texts.cash_payment_recorded(o, s.amount_cents, lang),
        money=True,
    ),
    # Only the vendor refunds: they are not told of what they just did themselves.
    "payment.refunded": Notice(
        "payment", lambda o, s: ("customer",),
        lambda o, s, to, lang: texts.refund_issued(o, s.amount_cents, s.reason, lang),
        money=True,
    ),
    "message.created": Notice(
        "message", lambda o, s: _other(s),
        lambda o, s, to, lang: texts.message_posted(
            o, s.sender.name if s.sender else "", s.message, lang
        ),
    ),
}  # fmt: skip


async def tell(uow: UnitOfWork, order: Order, event: Event, said: Said | None = None) -> None:
    """Notify the event's recipients of `order`, in the caller's transaction."""
    said = said or Said()
    notice = NOTICES[event]
    data: dict[str, Any] = {"order_id": str(order.id), "status": order.status}
    if notice.money:
        data["amount_cents"] = said.amount_cents
    for party in notice.to(order, said):
        recipient = order.vendor_id if party == "vendor" else order.customer_id
        prefs = await preferences.load(uow, recipient)  # once: every consequence reads it
        lang = await recipient_language(uow, recipient)
        title, body = notice.wording(order, said, party, lang)
        notification = await notify(
            uow,
            recipient,
            type=notice.type,
            event=(notice.event or event).format(status=order.status),
            title=title,
            body=body,
            url=f"/orders/{order.id}",
            data=data,
            lang=lang.code,
            prefs=prefs,
        )
        if notice.rings:
            # It rings again while pending, and its vendor hears if it stays unanswered.
            await alerts.schedule(uow, order, notification, prefs)
            # No device will ring: the order reaches the vendor by email (if kept on).
            await emails.queue_if_no_device(uow, order, prefs)
