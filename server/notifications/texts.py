"""What each notification says: titles and bodies a vendor or customer would want to read."""

from __future__ import annotations

from server.orders.models import Order

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}
_ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK"}
_STATUS_WORDS = {
    "accepted": "accepted",
    "rejected": "declined",
    "preparing": "being prepared",
    "shipped": "on its way",
    "delivered": "delivered",
    "cancelled": "cancelled",
}


def money(cents: int, currency: str) -> str:
    """€57.20, $3.00, ¥500, 12.50 CHF."""
    zero_decimal = currency in _ZERO_DECIMAL
    amount = f"{cents:,}" if zero_decimal else f"{cents // 100:,}.{cents % 100:02d}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def number(order: Order) -> str:
    return f"#{order.id}"


def order_created(order: Order) -> tuple[str, str]:
    count = sum(item.quantity for item in order.items)
    items = "1 item" if count == 1 else f"{count} items"
    title = f"New order {number(order)}"
    body = f"{items}, {money(order.total_cents, order.currency)} from {order.customer.name}"
    if order.note:
        body += f" — “{order.note}”"
    return title, body


def waited(seconds: float) -> str:
    """How long an order has waited, as a lock screen can say it: 45 s, 4 min, 1 h 5 min."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def order_reminder(order_id: int, waited_seconds: float) -> str:
    """The title of a pending order's reminder: "Still waiting: order #12 · 4 min"."""
    return f"Still waiting: order #{order_id} · {waited(waited_seconds)}"


_ANSWERED = {"accepted": "accepted", "rejected": "rejected", "cancelled": "cancelled"}


def order_answered(order: Order) -> str:
    """The vendor's own lock screens once the order left `pending`: "Order #12 accepted"."""
    return f"Order {number(order)} {_ANSWERED.get(order.status, order.status)}"


def status_changed(order: Order, by: str) -> tuple[str, str]:
    word = _STATUS_WORDS.get(order.status, order.status)
    if by == "customer":
        return (
            f"Order {number(order)} cancelled",
            f"{order.customer.name} cancelled their order "
            f"({money(order.total_cents, order.currency)}).",
        )
    title = f"Order {number(order)} {word}"
    body = f"{order.vendor.name}: your order is {word}."
    if order.status == "rejected" and order.reject_reason:
        body += f" Reason: {order.reject_reason}"
    return title, body


def payment_received(order: Order, amount_cents: int) -> tuple[str, str]:
    paid = money(amount_cents, order.currency)
    outstanding = order.total_cents - (order.paid_cents - order.refunded_cents)
    rest = "paid in full" if outstanding <= 0 else f"{money(outstanding, order.currency)} to go"
    return (
        f"Payment received for {number(order)}",
        f"{paid} from {order.customer.name} — {rest}.",
    )


def refund_issued(
    order: Order, amount_cents: int, reason: str | None, *, to: str
) -> tuple[str, str]:
    amount = money(amount_cents, order.currency)
    suffix = f" Reason: {reason}" if reason else ""
    if to == "customer":
        return (
            f"Refund for order {number(order)}",
            f"{order.vendor.name} refunded {amount}.{suffix}",
        )
    return (
        f"Refund sent for {number(order)}",
        f"You refunded {amount} to {order.customer.name}.{suffix}",
    )


def message_posted(order: Order, sender_name: str, body: str) -> tuple[str, str]:
    preview = body if len(body) <= 200 else body[:199].rstrip() + "…"
    return f"New message on order {number(order)}", f"{sender_name}: {preview}"
