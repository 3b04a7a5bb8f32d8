"""Who may touch which order or notification: anonymous, owner, another vendor, a customer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Account, Accounts, place_order


@pytest.fixture
async def world(client: httpx.AsyncClient, accounts: Accounts) -> dict[str, Any]:
    vendor = await accounts.vendor("Owner shop")
    customer = await accounts.customer("Buyer")
    other_vendor = await accounts.vendor("Rival shop")
    other_customer = await accounts.customer("Stranger")
    order = await place_order(client, customer, vendor)
    await client.post(f"/api/orders/{order['id']}/accept", headers=vendor.headers)
    note = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"][0]
    return {
        "vendor": vendor,
        "customer": customer,
        "other_vendor": other_vendor,
        "other_customer": other_customer,
        "order": order["id"],
        "note": note["id"],
    }


ORDER_ENDPOINTS = [
    # (method, path, body, expected for: anonymous, vendor-owner, other vendor,
    #  the customer, other customer)
    ("GET", "/api/orders/{o}", None, (401, 200, 404, 200, 404)),
    ("POST", "/api/orders/{o}/accept", None, (401, 409, 404, 403, 404)),
    ("POST", "/api/orders/{o}/reject", {}, (401, 409, 404, 403, 404)),
    ("POST", "/api/orders/{o}/status", {"status": "preparing"}, (401, 200, 404, 403, 404)),
    ("POST", "/api/orders/{o}/payments", {"amount_cents": 100}, (401, 403, 404, 201, 404)),
    ("POST", "/api/orders/{o}/cash-payments", {"amount_cents": 100}, (401, 201, 404, 403, 404)),
    ("POST", "/api/orders/{o}/refunds", {"amount_cents": 1}, (401, 409, 404, 403, 404)),
    ("POST", "/api/orders/{o}/messages", {"body": "hi"}, (401, 201, 404, 201, 404)),
    ("GET", "/api/orders", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/orders", "ORDER", (401, 403, 403, 201, 201)),
]
NOTE_ENDPOINTS = [
    ("GET", "/api/notifications", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/notifications/count", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/notifications/mark-all-read", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/notifications/mark-all-seen", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/notifications/{n}/read", None, (401, 200, 404, 404, 404)),
    ("POST", "/api/notifications/{n}/events", {"event": "shown"}, (401, 204, 404, 404, 404)),
]
WHO = ("anonymous", "vendor", "other_vendor", "customer", "other_customer")


@pytest.mark.parametrize(("method", "path", "body", "expected"), ORDER_ENDPOINTS + NOTE_ENDPOINTS)
async def test_access_matrix(
    client: httpx.AsyncClient,
    world: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    expected: tuple[int, ...],
) -> None:
    url = path.format(o=world["order"], n=world["note"])
    for who, status in zip(WHO, expected, strict=True):
        account: Account | None = world.get(who)
        headers = account.headers if account else {}
        payload = body
        if body == "ORDER":
            payload = {
                "vendor_id": world["vendor"].id,
                "currency": "EUR",
                "items": [{"name": "Tea", "quantity": 1, "unit_price_cents": 300}],
            }
        response = await client.request(method, url, json=payload, headers=headers)
        assert response.status_code == status, f"{who} {method} {url}: {response.text}"
        if status >= 400:
            assert set(response.json()) >= {"detail", "code"}
