"""Each notification is written in its recipient's language, the same in the inbox, the
live event and the push a browser decrypts: real app, real worker, loopback push service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Account, Accounts, place_order
from tests.notifications.test_fanout import Recorder
from tests.pushservice import PushService

ONE_TEA = [{"name": "Tea", "quantity": 1, "unit_price_cents": 700}]
# (title of a new order, its body for one tea at 7.00, for the default three items at 9.20)
NEW_ORDER = {
    "en": ("New order #{n}", "1 item, €7.00 from Alice", "3 items, €9.20 from Alice"),
    "de": (
        "Neue Bestellung #{n}",
        "1 Artikel, 7,00\u00a0€ von Alice",
        "3 Artikel, 9,20\u00a0€ von Alice",
    ),
    "fr": (
        "Nouvelle commande #{n}",
        "Alice\u00a0: 1 article, 7,00\u00a0€",
        "Alice\u00a0: 3 articles, 9,20\u00a0€",
    ),
}


@dataclass(eq=False)
class Tab(Recorder):
    """An open tab as the hub sees it, keeping the live events it is sent."""

    def notifications(self) -> list[dict[str, Any]]:
        messages = [json.loads(e.text) for e in self.events]
        return [m["notification"] for m in messages if m["type"] == "notification"]


async def speaking(client: httpx.AsyncClient, account: Account, locale: str) -> Account:
    response = await client.patch("/api/me", json={"locale": locale}, headers=account.headers)
    assert response.status_code == 200, response.text
    return account


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
async def test_a_new_order_reaches_inbox_tab_and_lock_screen_in_the_vendor_s_language(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
    locale: str,
) -> None:
    vendor = await speaking(worker_client, await worker_accounts.vendor("Corner Bakery"), locale)
    customer = await worker_accounts.customer("Alice")  # reads English: the vendor's counts
    device = push_service.subscribe()
    response = await worker_client.post(
        "/api/push/subscriptions", json=device.to_json(label="phone"), headers=vendor.headers
    )
    assert response.status_code == 201, response.text
    tab = Tab(int(vendor.id))
    await worker_app.state.units.hub.subscribe(tab)

    tea = await place_order(worker_client, customer, vendor, items=ONE_TEA)
    three = await place_order(worker_client, customer, vendor)

    title, one_body, three_body = NEW_ORDER[locale]
    expected = [
        (title.format(n=tea["id"]), one_body, locale),
        (title.format(n=three["id"]), three_body, locale),
    ]
    inbox = (await worker_client.get("/api/notifications", headers=vendor.headers)).json()
    assert [(i["title"], i["body"], i["lang"]) for i in reversed(inbox["items"])] == expected
    assert [(n["title"], n["body"], n["lang"]) for n in tab.notifications()] == expected
    pushed = [m.json["notification"] for m in await push_service.wait_for(2)]
    assert sorted((p["title"], p["body"], p["lang"]) for p in pushed) == sorted(expected)


async def test_each_party_reads_the_order_s_news_in_their_own_language(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await speaking(client, await accounts.vendor("Boulangerie Martin"), "fr")
    customer = await speaking(client, await accounts.customer("Alice"), "de")
    order = await place_order(client, customer, vendor)
    n, headers = order["id"], vendor.headers

    assert (await client.post(f"/api/orders/{n}/accept", headers=headers)).status_code == 200
    paid = {"amount_cents": 500}
    response = await client.post(f"/api/orders/{n}/payments", json=paid, headers=customer.headers)
    assert response.status_code == 201, response.text
    refund = {"amount_cents": 200, "reason": "Croissant vergessen"}
    assert (await client.post(f"/api/orders/{n}/refunds", json=refund, headers=headers)).is_success

    async def inbox(account: Account) -> list[tuple[str, str, str]]:
        page = (await client.get("/api/notifications", headers=account.headers)).json()
        return [(i["title"], i["body"], i["lang"]) for i in reversed(page["items"])]

    assert await inbox(customer) == [
        (
            f"Bestellung #{n} angenommen",
            "Boulangerie Martin: Ihre Bestellung wurde angenommen.",
            "de",
        ),
        (
            f"Erstattung für Bestellung #{n}",
            "Boulangerie Martin hat 2,00\u00a0€ erstattet. Grund: Croissant vergessen",
            "de",
        ),
    ]
    assert await inbox(vendor) == [
        (f"Nouvelle commande #{n}", "Alice\u00a0: 3 articles, 9,20\u00a0€", "fr"),
        (
            f"Paiement reçu pour la commande #{n}",
            "Alice a payé 5,00\u00a0€ — reste à payer\u00a0: 4,20\u00a0€.",
            "fr",
        ),
    ]  # and no notice of the refund the vendor made themselves


async def test_a_push_test_speaks_the_caller_s_language(
    worker_client: httpx.AsyncClient, worker_accounts: Accounts, push_service: PushService
) -> None:
    vendor = await speaking(worker_client, await worker_accounts.vendor(), "de")
    device = push_service.subscribe()
    response = await worker_client.post(
        "/api/push/subscriptions", json=device.to_json(label="phone"), headers=vendor.headers
    )
    assert response.status_code == 201, response.text
    assert (await worker_client.post("/api/push/test", headers=vendor.headers)).status_code == 202
    [message] = await push_service.wait_for(1)
    shown = message.json["notification"]
    assert (shown["title"], shown["body"], shown["lang"]) == (
        "Testbenachrichtigung",
        "Push-Benachrichtigungen funktionieren auf diesem Gerät.",
        "de",
    )


async def test_cash_taken_at_pickup_is_told_in_the_customer_s_language(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor("Boulangerie Martin")
    customer = await speaking(client, await accounts.customer("Alice"), "de")
    order = await place_order(client, customer, vendor)
    n = order["id"]
    for cents in (500, 420):
        cash = {"amount_cents": cents}
        paid = await client.post(
            f"/api/orders/{n}/cash-payments", json=cash, headers=vendor.headers
        )
        assert paid.status_code == 201, paid.text

    page = (await client.get("/api/notifications", headers=customer.headers)).json()
    assert [(i["title"], i["body"], i["lang"]) for i in reversed(page["items"])] == [
        (
            f"Boulangerie Martin hat 5,00\u00a0€ für #{n} erhalten",
            "Bar bezahlt, erfasst von Boulangerie Martin \u2013 noch 4,20\u00a0€ offen.",
            "de",
        ),
        (
            f"Boulangerie Martin hat 4,20\u00a0€ für #{n} erhalten",
            "Bar bezahlt, erfasst von Boulangerie Martin \u2013 vollständig bezahlt.",
            "de",
        ),
    ]
