"""A shop order's fallback email says what the shop told (its item count, its total, its
customer) and leaves out, in natural sentences, what it did not: never "0 items",
a zero total or a dash for a customer nobody named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.core.languages import language
from server.mail.models import OutgoingEmail
from server.orders.alerts import email_texts
from tests.conftest import Account, Accounts
from tests.integrations.test_events import event, issue_key, send

NOTHING_ELSE = {"customer": None, "total_cents": None, "currency": None}


async def fallback_email(
    app: Any, client: httpx.AsyncClient, vendor: Account, locale: str, **data: Any
) -> OutgoingEmail:
    """The email a vendor without a device gets for a new shop order with `data`."""
    await client.patch("/api/me", json={"locale": locale}, headers=vendor.headers)
    response = await send(client, await issue_key(app), event(vendor, **data))
    assert response.status_code == 201, response.text
    async with app.state.units.reader() as uow:
        [mail] = await uow.session.scalars(
            select(OutgoingEmail).where(OutgoingEmail.user_id == int(vendor.id))
        )
    return mail


@pytest.mark.parametrize(
    ("locale", "data", "subject", "intro", "total"),
    [
        (
            "en",
            {"items": 3},
            "New order #A-1001 from Ada — 3 items, €12.50",
            "Ada placed order #A-1001: 3 items, €12.50.",
            "Total: €12.50",
        ),
        ("en", NOTHING_ELSE, "New order #A-1001", "A customer placed order #A-1001.", None),
        (
            "de",
            {**NOTHING_ELSE, "customer": "Ada"},
            "Neue Bestellung #A-1001 von Ada",
            "Ada hat Bestellung #A-1001 aufgegeben.",
            None,
        ),
        (
            "de",
            {**NOTHING_ELSE, "items": 1},
            "Neue Bestellung #A-1001 \u2013 1 Artikel",
            "Ein Kunde hat Bestellung #A-1001 aufgegeben: 1 Artikel.",
            None,
        ),
        (
            "fr",
            {"items": 2, "currency": None},
            "Nouvelle commande #A-1001 passée par Ada — 2 articles, 12,50",
            "Ada a passé la commande #A-1001\u00a0: 2 articles, 12,50.",
            "Total\u00a0: 12,50",
        ),
        (
            "fr",
            {"customer": None},
            "Nouvelle commande #A-1001 — 12,50\u00a0€",
            "Un client a passé la commande #A-1001\u00a0: 12,50\u00a0€.",
            "Total\u00a0: 12,50\u00a0€",
        ),
    ],
)
async def test_a_shop_orders_email_tells_what_the_shop_sent_and_nothing_it_did_not(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    locale: str,
    data: dict[str, Any],
    subject: str,
    intro: str,
    total: str | None,
) -> None:
    mail = await fallback_email(app, client, await accounts.vendor(), locale, **data)
    assert mail.subject == subject
    assert intro in mail.text_body
    html = mail.html_body.replace("&#x27;", "'")
    assert intro in html
    if total is None:  # no total line at all, and nothing that reads as an amount of zero
        for body in (mail.text_body, html):
            assert "Total" not in body and "Gesamt" not in body
            assert "0.00" not in body and "0,00" not in body and "¤" not in body
    else:
        assert f"  {total}\n" in mail.text_body
        assert "<strong>Total</strong>" in html or "<strong>Gesamt</strong>" in html
    for body in (mail.subject, mail.text_body, html):
        assert " 0 " not in body and "— ," not in body and "—," not in body


async def test_the_item_count_shows_in_the_push_body_and_is_checked(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    assert (await send(client, key, event(vendor, items=3))).status_code == 201
    [item] = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    assert item["body"] == "Ada · 3 items · €12.50"
    for wrong in (0, 100_001, "three"):
        r = await send(client, key, event(vendor, f"evt_{wrong}", order_ref="B-2", items=wrong))
        assert (r.status_code, r.json()["code"]) == (422, "invalid_event"), wrong
        assert r.json()["detail"].startswith("data.items")


@pytest.mark.parametrize(
    ("locale", "customer", "count", "total", "said"),
    [
        ("en", None, None, None, "Order #A-9 is still pending."),
        ("en", "Ada", 2, 990, "Order #A-9 from Ada (2 items, €9.90) is still pending."),
        ("de", "Ada", None, None, "Bestellung #A-9 von Ada ist noch offen."),
        ("fr", None, 1, None, "La commande #A-9 (1 article) est toujours en attente."),
    ],
)
def test_an_unanswered_orders_email_leaves_out_what_is_unknown(
    locale: str, customer: str | None, count: int | None, total: int | None, said: str
) -> None:
    facts = email_texts.OrderFacts(
        number="A-9",
        customer_name=customer,
        currency="EUR",
        total_cents=total,
        count=count,
        note=None,
        lines=[],
        path="/o/9",
    )
    to = email_texts.Recipient(
        "Stall", "https://shop.example/o/9", "https://vendorbell.example/settings"
    )
    rendered = email_texts.render(facts, to, "unanswered", language(locale))
    assert said in rendered.text
    assert said in rendered.html
    assert ("<table" in rendered.html) is (total is not None)
