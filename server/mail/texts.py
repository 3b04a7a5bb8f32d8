"""What an order's fallback email says, as plain text and as HTML.

Every string a user typed (names, item names, the note) is escaped in the HTML and
folded onto one line in the subject. No images and no remote content: nothing in it
reports back that it was opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from server.mail.schemas import EmailReason
from server.notifications.texts import money

TIMES = "\u00d7"  # the multiplication sign, as in "2 (times) Flat white"
_WHY = {
    "no_device": (
        "None of your devices has push notifications switched on, so this order "
        "reaches you by email. Turn them on under Devices so that new orders ring."
    ),
    "push_failed": (
        "The push notification for this order reached none of your devices, "
        "so it reaches you by email."
    ),
    "unanswered": "This order is still waiting for you to accept or decline it.",
}


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    cents: int  # quantity times unit price


@dataclass(frozen=True)
class OrderFacts:
    """What the email tells, gathered by server.mail.orders."""

    number: int
    vendor_name: str
    customer_name: str
    currency: str
    total_cents: int
    note: str | None
    lines: list[Line]
    link: str  # absolute: PUBLIC_URL/orders/<id>
    settings_link: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(value: str, limit: int = 80) -> str:
    """Whitespace (newlines included) folded to single spaces, cut at `limit`."""
    folded = " ".join(value.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def subject(facts: OrderFacts, reason: EmailReason) -> str:
    """'New order #12 from Alice — 2 items, €12.40', or 'Order #12 is still waiting'."""
    if reason == "unanswered":
        return f"Order #{facts.number} is still waiting"
    return (
        f"New order #{facts.number} from {one_line(facts.customer_name, 60)}"
        f" — {_count(facts)}, {money(facts.total_cents, facts.currency)}"
    )


def render(facts: OrderFacts, reason: EmailReason) -> Rendered:
    return Rendered(subject(facts, reason), _text(facts, reason), _html(facts, reason))


def _count(facts: OrderFacts) -> str:
    count = sum(line.quantity for line in facts.lines)
    return "1 item" if count == 1 else f"{count} items"


def _intro(facts: OrderFacts, reason: EmailReason, customer: str) -> str:
    total = money(facts.total_cents, facts.currency)
    if reason == "unanswered":
        return f"Order #{facts.number} from {customer} ({_count(facts)}, {total}) is still pending."
    return f"{customer} placed order #{facts.number}: {_count(facts)}, {total}."


def _text(facts: OrderFacts, reason: EmailReason) -> str:
    lines = [
        f"Hello {one_line(facts.vendor_name)},",
        "",
        _intro(facts, reason, one_line(facts.customer_name)),
        "",
    ]
    for line in facts.lines:
        price = money(line.cents, facts.currency)
        lines.append(f"  {line.quantity} {TIMES} {one_line(line.name)}  {price}")
    lines.append(f"  Total: {money(facts.total_cents, facts.currency)}")
    if facts.note:
        lines += ["", f"Note: “{facts.note}”"]
    lines += [
        "",
        f"Open the order: {facts.link}",
        "",
        _WHY[reason],
        "",
        "--",
        "You get these emails because email alerts for orders are on.",
        f"Switch them off in your settings: {facts.settings_link}",
    ]
    return "\n".join(lines) + "\n"


def _html(facts: OrderFacts, reason: EmailReason) -> str:
    cell = 'style="padding:4px 12px 4px 0"'
    right = 'style="padding:4px 0;text-align:right"'
    rows = "".join(
        f"<tr><td {cell}>{line.quantity} {TIMES}</td><td {cell}>{escape(line.name)}</td>"
        f"<td {right}>{escape(money(line.cents, facts.currency))}</td></tr>"
        for line in facts.lines
    )
    total = escape(money(facts.total_cents, facts.currency))
    note = f"<p>Note: “{escape(facts.note)}”</p>" if facts.note else ""
    link, settings = escape(facts.link, quote=True), escape(facts.settings_link, quote=True)
    small = 'style="color:#5f6368;font-size:13px"'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject(facts, reason))}</title></head>"
        '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f1f1f">'
        f"<p>Hello {escape(one_line(facts.vendor_name))},</p>"
        f"<p>{escape(_intro(facts, reason, one_line(facts.customer_name)))}</p>"
        f'<table style="border-collapse:collapse">{rows}'
        f'<tr><td colspan="2" {cell}><strong>Total</strong></td>'
        f"<td {right}><strong>{total}</strong></td></tr></table>"
        f"{note}"
        f'<p><a href="{link}" style="display:inline-block;padding:10px 18px;background:#1a73e8;'
        f'color:#ffffff;border-radius:6px;text-decoration:none">Open order #{facts.number}</a></p>'
        f'<p>Or copy this link: <a href="{link}">{link}</a></p>'
        f"<p {small}>{escape(_WHY[reason])}</p>"
        f"<p {small}>You get these emails because email alerts for orders are on. "
        f'<a href="{settings}">Switch them off in your settings</a>.</p>'
        "</body></html>\n"
    )
