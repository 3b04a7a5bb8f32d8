"""A shop's event reaches its vendor in the vendor's language; what the shop wrote stays."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Accounts
from tests.integrations.test_events import event, issue_key, send


@pytest.mark.parametrize(
    ("locale", "kind", "data", "said"),
    [
        ("de", "order.created", {}, ("Neue Bestellung A-1001", "Ada · 12,50\u00a0€", "de")),
        (
            "fr",
            "order.created",
            {"currency": None},
            ("Nouvelle commande A-1001", "Ada · 12,50", "fr"),
        ),
        (
            "de",
            "payment.received",
            {},
            ("Zahlung erhalten", "Ada · 12,50\u00a0€ · Bestellung A-1001", "de"),
        ),
        (
            "fr",
            "message.created",
            {"text": "Bonjour !"},
            ("Ada vous a envoyé un message", "Bonjour !", "fr"),
        ),
        (
            "de",
            "order.cancelled",
            {"order_ref": None},
            ("Bestellung storniert", "Der Kunde hat die Bestellung storniert.", "de"),
        ),
    ],
)
async def test_an_event_is_told_in_the_vendor_s_language(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    locale: str,
    kind: str,
    data: dict[str, Any],
    said: tuple[str, str, str],
) -> None:
    vendor = await accounts.vendor()
    await client.patch("/api/me", json={"locale": locale}, headers=vendor.headers)
    body = {**event(vendor, **data), "type": kind}
    response = await send(client, await issue_key(app), body)
    assert response.status_code == 201, response.text
    [item] = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    assert (item["title"], item["body"], item["lang"]) == said
