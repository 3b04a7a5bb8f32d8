"""What an order's fallback email says, as plain text and as HTML, in the vendor's language.

Every string a user typed (names, item names, the note) is escaped in the HTML and
folded onto one line in the subject. No images and no remote content: nothing in it
reports back that it was opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from server.core.languages import Language
from server.mail.schemas import EmailReason
from server.orders.texts import items

TIMES = "\u00d7"  # the multiplication sign, as in "2 (times) Flat white"


def _why(reason: EmailReason, lang: Language) -> str:
    if reason == "no_device":
        return lang.gettext(
            "None of your devices has push notifications switched on, so this order "
            "reaches you by email. Turn them on under Devices so that new orders ring."
        )
    if reason == "push_failed":
        return lang.gettext(
            "The push notification for this order reached none of your devices, "
            "so it reaches you by email."
        )
    return lang.gettext("This order is still waiting for you to accept or decline it.")


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    cents: int  # quantity times unit price


@dataclass(frozen=True)
class OrderFacts:
    """What the email tells, gathered by server.orders.alerts.emails."""

    number: int | str  # a shop order's: its order_ref
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


def subject(facts: OrderFacts, reason: EmailReason, lang: Language) -> str:
    """'New order #12 from Alice — 2 items, €12.40', or 'Order #12 is still waiting'."""
    if reason == "unanswered":
        return lang.gettext("Order #{number} is still waiting").format(number=facts.number)
    return lang.gettext("New order #{number} from {customer} — {items}, {total}").format(
        number=facts.number,
        customer=one_line(facts.customer_name, 60),
        items=_count(facts, lang),
        total=lang.money(facts.total_cents, facts.currency),
    )


def render(facts: OrderFacts, reason: EmailReason, lang: Language) -> Rendered:
    """The email in the vendor's language."""
    return Rendered(
        subject(facts, reason, lang), _text(facts, reason, lang), _html(facts, reason, lang)
    )


def _count(facts: OrderFacts, lang: Language) -> str:
    return items(lang, sum(line.quantity for line in facts.lines))


def _intro(facts: OrderFacts, reason: EmailReason, customer: str, lang: Language) -> str:
    values = {
        "number": facts.number,
        "customer": customer,
        "items": _count(facts, lang),
        "total": lang.money(facts.total_cents, facts.currency),
    }
    if reason == "unanswered":
        pattern = lang.gettext(
            "Order #{number} from {customer} ({items}, {total}) is still pending."
        )
    else:
        pattern = lang.gettext("{customer} placed order #{number}: {items}, {total}.")
    return pattern.format(**values)


def _text(facts: OrderFacts, reason: EmailReason, lang: Language) -> str:
    lines = [
        lang.gettext("Hello {name},").format(name=one_line(facts.vendor_name)),
        "",
        _intro(facts, reason, one_line(facts.customer_name), lang),
        "",
    ]
    for line in facts.lines:
        price = lang.money(line.cents, facts.currency)
        lines.append(f"  {line.quantity} {TIMES} {one_line(line.name)}  {price}")
    total = lang.money(facts.total_cents, facts.currency)
    lines.append("  " + lang.gettext("Total: {total}").format(total=total))
    if facts.note:
        lines += ["", lang.gettext("Note: “{note}”").format(note=facts.note)]
    lines += [
        "",
        lang.gettext("Open the order: {link}").format(link=facts.link),
        "",
        _why(reason, lang),
        "",
        "--",
        lang.gettext("You get these emails because email alerts for orders are on."),
        lang.gettext("Switch them off in your settings: {link}").format(link=facts.settings_link),
    ]
    return "\n".join(lines) + "\n"


def _html(facts: OrderFacts, reason: EmailReason, lang: Language) -> str:
    cell = 'style="padding:4px 12px 4px 0"'
    right = 'style="padding:4px 0;text-align:right"'
    rows = "".join(
        f"<tr><td {cell}>{line.quantity} {TIMES}</td><td {cell}>{escape(line.name)}</td>"
        f"<td {right}>{escape(lang.money(line.cents, facts.currency))}</td></tr>"
        for line in facts.lines
    )
    total = escape(lang.money(facts.total_cents, facts.currency))
    note = ""
    if facts.note:
        said = lang.gettext("Note: “{note}”").format(note=facts.note)
        note = f"<p>{escape(said)}</p>"
    link, settings = escape(facts.link, quote=True), escape(facts.settings_link, quote=True)
    small = 'style="color:#5f6368;font-size:13px"'
    total_label = escape(lang.gettext("Total"))
    hello = lang.gettext("Hello {name},").format(name=one_line(facts.vendor_name))
    button = lang.gettext("Open order #{number}").format(number=facts.number)
    copy = escape(lang.gettext("Or copy this link:"))
    # The sentence around the link is one message, so translators can move the link.
    switch_off = (
        escape(
            lang.gettext(
                "You get these emails because email alerts for orders are on. "
                "<a>Switch them off in your settings</a>."
            )
        )
        .replace("&lt;a&gt;", f'<a href="{settings}">')
        .replace("&lt;/a&gt;", "</a>")
    )
    return (
        f'<!doctype html><html lang="{escape(lang.code, quote=True)}"><head><meta charset="utf-8">'
        f"<title>{escape(subject(facts, reason, lang))}</title></head>"
        '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f1f1f">'
        f"<p>{escape(hello)}</p>"
        f"<p>{escape(_intro(facts, reason, one_line(facts.customer_name), lang))}</p>"
        f'<table style="border-collapse:collapse">{rows}'
        f'<tr><td colspan="2" {cell}><strong>{total_label}</strong></td>'
        f"<td {right}><strong>{total}</strong></td></tr></table>"
        f"{note}"
        f'<p><a href="{link}" style="display:inline-block;padding:10px 18px;background:#1a73e8;'
        f'color:#ffffff;border-radius:6px;text-decoration:none">{escape(button)}</a></p>'
        f'<p>{copy} <a href="{link}">{link}</a></p>'
        f"<p {small}>{escape(_why(reason, lang))}</p>"
        f"<p {small}>{switch_off}</p>"
        "</body></html>\n"
    )
