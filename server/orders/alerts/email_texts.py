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
    """What the email tells of the order, native or a shop's. A shop's order may leave
    out its customer, item count and total: the email then does not mention them."""

    number: int | str  # a shop order's: its order_ref
    customer_name: str | None
    currency: str | None  # None: an amount sent without its currency, a plain number
    total_cents: int | None
    count: int | None  # items in all (quantities summed)
    note: str | None
    lines: list[Line]
    path: str  # the order's page, made absolute on the vendor's link base (Recipient.link)


@dataclass(frozen=True)
class Recipient:
    """Whom the email greets and where its links lead (absolute)."""

    name: str
    link: str  # the order's page: vendorbell's, or a marketplace's for its vendor
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
    customer = one_line(facts.customer_name, 60) if facts.customer_name else None
    summary = _summary(facts, lang)
    if customer and summary:
        pattern = lang.gettext("New order #{number} from {customer} — {summary}")
    elif customer:
        pattern = lang.gettext("New order #{number} from {customer}")
    elif summary:
        pattern = lang.gettext("New order #{number} — {summary}")
    else:
        pattern = lang.gettext("New order #{number}")
    return pattern.format(number=facts.number, customer=customer, summary=summary)


def render(facts: OrderFacts, to: Recipient, reason: EmailReason, lang: Language) -> Rendered:
    """The email in the vendor's language."""
    return Rendered(
        subject(facts, reason, lang),
        _text(facts, to, reason, lang),
        _html(facts, to, reason, lang),
    )


def amount(cents: int, facts: OrderFacts, lang: Language) -> str:
    """€12.40, or 12.40 when the shop sent the amount without its currency."""
    return lang.money(cents, facts.currency) if facts.currency else lang.decimal(cents)


def _summary(facts: OrderFacts, lang: Language) -> str:
    """'2 items, €12.40', what of it is known ('2 items'; '€12.40'), or ''."""
    known = []
    if facts.count is not None:
        known.append(items(lang, facts.count))
    if facts.total_cents is not None:
        known.append(amount(facts.total_cents, facts, lang))
    return ", ".join(known)


def _intro(facts: OrderFacts, reason: EmailReason, lang: Language) -> str:
    customer = one_line(facts.customer_name) if facts.customer_name else None
    summary = _summary(facts, lang)
    # Whole sentences per case, so each language words what is left out its own way.
    if reason == "unanswered":
        patterns = {
            (True, True): lang.gettext(
                "Order #{number} from {customer} ({summary}) is still pending."
            ),
            (True, False): lang.gettext("Order #{number} from {customer} is still pending."),
            (False, True): lang.gettext("Order #{number} ({summary}) is still pending."),
            (False, False): lang.gettext("Order #{number} is still pending."),
        }
    else:
        patterns = {
            (True, True): lang.gettext("{customer} placed order #{number}: {summary}."),
            (True, False): lang.gettext("{customer} placed order #{number}."),
            (False, True): lang.gettext("A customer placed order #{number}: {summary}."),
            (False, False): lang.gettext("A customer placed order #{number}."),
        }
    pattern = patterns[bool(customer), bool(summary)]
    return pattern.format(number=facts.number, customer=customer, summary=summary)


def _text(facts: OrderFacts, to: Recipient, reason: EmailReason, lang: Language) -> str:
    lines = [
        lang.gettext("Hello {name},").format(name=one_line(to.name)),
        "",
        _intro(facts, reason, lang),
        "",
    ]
    for line in facts.lines:
        price = amount(line.cents, facts, lang)
        lines.append(f"  {line.quantity} {TIMES} {one_line(line.name)}  {price}")
    if facts.total_cents is not None:
        total = amount(facts.total_cents, facts, lang)
        lines.append("  " + lang.gettext("Total: {total}").format(total=total))
    if facts.note:
        lines += ["", lang.gettext("Note: “{note}”").format(note=facts.note)]
    lines += [
        "",
        lang.gettext("Open the order: {link}").format(link=to.link),
        "",
        _why(reason, lang),
        "",
        "--",
        lang.gettext("You get these emails because email alerts for orders are on."),
        lang.gettext("Switch them off in your settings: {link}").format(link=to.settings_link),
    ]
    return "\n".join(lines) + "\n"


def _html(facts: OrderFacts, to: Recipient, reason: EmailReason, lang: Language) -> str:
    note = ""
    if facts.note:
        said = lang.gettext("Note: “{note}”").format(note=facts.note)
        note = f"<p>{escape(said)}</p>"
    link, settings = escape(to.link, quote=True), escape(to.settings_link, quote=True)
    small = 'style="color:#5f6368;font-size:13px"'
    hello = lang.gettext("Hello {name},").format(name=one_line(to.name))
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
        f"<p>{escape(_intro(facts, reason, lang))}</p>"
        f"{_html_table(facts, lang)}"
        f"{note}"
        f'<p><a href="{link}" style="display:inline-block;padding:10px 18px;background:#1a73e8;'
        f'color:#ffffff;border-radius:6px;text-decoration:none">{escape(button)}</a></p>'
        f'<p>{copy} <a href="{link}">{link}</a></p>'
        f"<p {small}>{escape(_why(reason, lang))}</p>"
        f"<p {small}>{switch_off}</p>"
        "</body></html>\n"
    )


def _html_table(facts: OrderFacts, lang: Language) -> str:
    """The lines and the total; a total the shop did not send gets no row ('' when
    nothing is left to show)."""
    cell = 'style="padding:4px 12px 4px 0"'
    right = 'style="padding:4px 0;text-align:right"'
    rows = "".join(
        f"<tr><td {cell}>{line.quantity} {TIMES}</td><td {cell}>{escape(line.name)}</td>"
        f"<td {right}>{escape(amount(line.cents, facts, lang))}</td></tr>"
        for line in facts.lines
    )
    if facts.total_cents is not None:
        total = escape(amount(facts.total_cents, facts, lang))
        rows += (
            f'<tr><td colspan="2" {cell}><strong>{escape(lang.gettext("Total"))}</strong></td>'
            f"<td {right}><strong>{total}</strong></td></tr>"
        )
    return f'<table style="border-collapse:collapse">{rows}</table>' if rows else ""
