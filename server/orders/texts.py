"""What an order's notifications say: titles and bodies a vendor or customer would want
to read, in the recipient's language (server.core.languages; the words are in
server/locale). One table words each status, for the customer's notification and for
the vendor's lock screens alike."""

from __future__ import annotations

from server.core.languages import DEFAULT, Language, language
from server.orders.models import Order


def money(cents: int, currency: str) -> str:
    """In English (€57.20): for the API's error details, which stay English (server.core.errors)."""
    return language(DEFAULT).money(cents, currency)


def items(lang: Language, count: int) -> str:
    """1 item · 2 Artikel · 2 articles."""
    return lang.ngettext("{count} item", "{count} items", count).format(count=lang.number(count))


def order_created(order: Order, lang: Language) -> tuple[str, str]:
    count = sum(item.quantity for item in order.items)
    title = lang.gettext("New order #{number}").format(number=order.number)
    body = lang.gettext("{items}, {total} from {customer}").format(
        items=items(lang, count),
        total=lang.money(order.total_cents, order.currency),
        customer=order.customer.name,
    )
    if order.note:
        body = lang.gettext("{text} — “{note}”").format(text=body, note=order.note)
    return title, body


def order_reminder(number: int | str, waited_seconds: float, lang: Language) -> str:
    """The title of a pending order's reminder: "Still waiting: order #12 · 4 min"."""
    return lang.gettext("Still waiting: order #{number} · {waited}").format(
        number=number, waited=lang.duration(waited_seconds)
    )


def _status_wording(lang: Language, status: str) -> tuple[str, str]:
    """(title, body) patterns for an order that just became `status`: the one table."""
    wording = {
        "accepted": (
            lang.gettext("Order #{number} accepted"),
            lang.gettext("{vendor}: your order has been accepted."),
        ),
        "rejected": (
            lang.gettext("Order #{number} rejected"),
            lang.gettext("{vendor}: your order has been declined."),
        ),
        "preparing": (
            lang.gettext("Order #{number} is being prepared"),
            lang.gettext("{vendor}: your order is being prepared."),
        ),
        "shipped": (
            lang.gettext("Order #{number} shipped"),
            lang.gettext("{vendor}: your order is on its way."),
        ),
        "delivered": (
            lang.gettext("Order #{number} delivered"),
            lang.gettext("{vendor}: your order has been delivered."),
        ),
        "cancelled": (
            lang.gettext("Order #{number} cancelled"),
            lang.gettext("{vendor}: your order has been cancelled."),
        ),
    }
    return wording.get(status) or (
        lang.gettext("Order #{number}: {status}"),
        lang.gettext("{vendor}: your order is now “{status}”."),
    )


def status_title(order: Order, lang: Language) -> str:
    """ "Order #12 accepted": the customer's notification, and the vendor's own lock
    screens once the order left `pending`."""
    return status_title_of(order.number, order.status, lang)


def status_title_of(number: int | str, status: str, lang: Language) -> str:
    """`status_title` of an order known by number and status only (a shop's order)."""
    title, _ = _status_wording(lang, status)
    return title.format(number=number, status=status)


def with_reason(lang: Language, text: str, reason: str | None) -> str:
    if not reason:
        return text
    return lang.gettext("{text} Reason: {reason}").format(text=text, reason=reason)


def status_changed(order: Order, by: str, lang: Language) -> tuple[str, str]:
    if by == "customer":
        title = lang.gettext("Order #{number} cancelled").format(number=order.number)
        body = lang.gettext("{customer} cancelled their order ({total}).").format(
            customer=order.customer.name, total=lang.money(order.total_cents, order.currency)
        )
        return title, body
    _, body = _status_wording(lang, order.status)
    body = body.format(vendor=order.vendor.name, status=order.status)
    if order.status == "rejected":
        body = with_reason(lang, body, order.reject_reason)
    return status_title(order, lang), body


def payment_received(order: Order, amount_cents: int, lang: Language) -> tuple[str, str]:
    outstanding = order.outstanding_cents  # a refund never reopens the bill
    title = lang.gettext("Payment received for #{number}").format(number=order.number)
    if outstanding <= 0:
        body = lang.gettext("{customer} paid {amount} — paid in full.")
    else:
        body = lang.gettext("{customer} paid {amount} — {outstanding} to go.")
    return title, body.format(
        customer=order.customer.name,
        amount=lang.money(amount_cents, order.currency),
        outstanding=lang.money(outstanding, order.currency),
    )


def cash_payment_recorded(order: Order, amount_cents: int, lang: Language) -> tuple[str, str]:
    """The customer's record of cash the vendor took (at pickup)."""
    outstanding = order.outstanding_cents  # a refund never reopens the bill
    title = lang.gettext("{vendor} received {amount} for #{number}")
    if outstanding <= 0:
        body = lang.gettext("Paid in cash, recorded by {vendor} — paid in full.")
    else:
        body = lang.gettext("Paid in cash, recorded by {vendor} — {outstanding} to go.")
    values = {
        "vendor": order.vendor.name,
        "amount": lang.money(amount_cents, order.currency),
        "outstanding": lang.money(outstanding, order.currency),
        "number": order.number,
    }
    return title.format(**values), body.format(**values)


def refund_issued(
    order: Order, amount_cents: int, reason: str | None, lang: Language
) -> tuple[str, str]:
    """The customer's notice of a refund (the vendor, who made it, gets none)."""
    amount = lang.money(amount_cents, order.currency)
    title = lang.gettext("Refund for order #{number}")
    body = lang.gettext("{vendor} refunded {amount}.").format(
        vendor=order.vendor.name, amount=amount
    )
    return title.format(number=order.number), with_reason(lang, body, reason)


def message_posted(order: Order, sender_name: str, body: str, lang: Language) -> tuple[str, str]:
    preview = body if len(body) <= 200 else body[:199].rstrip() + "…"
    title = lang.gettext("New message on order #{number}").format(number=order.number)
    return title, lang.gettext("{sender}: {message}").format(sender=sender_name, message=preview)
