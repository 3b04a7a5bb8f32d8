"""Client mistakes get a clear 4xx with a code, and the database is left as it was."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from server.notifications.models import Notification
from server.orders.models import Order, OrderItem
from tests.conftest import Accounts, order_body


async def _totals(app: Any) -> tuple[int, int, int]:
    async with app.state.db.reader() as session:
        counts = [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Order, OrderItem, Notification)
        ]
    return counts[0], counts[1], counts[2]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"items": [{"name": "x", "quantity": -1, "unit_price_cents": 100}]}, "validation_error"),
        ({"items": [{"name": "x", "quantity": 0, "unit_price_cents": 100}]}, "validation_error"),
        ({"items": [{"name": "x", "quantity": "2", "unit_price_cents": 100}]}, "validation_error"),
        ({"items": [{"name": "x", "quantity": 1, "unit_price_cents": -5}]}, "validation_error"),
        ({"items": [{"name": "x", "quantity": 1.5, "unit_price_cents": 100}]}, "validation_error"),
        ({"items": []}, "validation_error"),
        ({"items": "lots"}, "validation_error"),
        ({"currency": "euro"}, "validation_error"),
        ({"vendor_id": 12}, "validation_error"),
        ({"vendor_id": "999999"}, "unknown_vendor"),
        ({"vendor_id": "not-an-id"}, "unknown_vendor"),
        ({"surprise": True}, "validation_error"),
    ],
)
async def test_bad_order_is_422_and_nothing_stored(
    client: httpx.AsyncClient, accounts: Accounts, app: Any, change: dict[str, Any], code: str
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    before = await _totals(app)
    response = await client.post(
        "/api/orders", json=order_body(vendor.id, **change), headers=customer.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert isinstance(response.json()["detail"], str)
    assert await _totals(app) == before


async def test_customer_id_given_as_vendor_is_unknown_vendor(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    other = await accounts.customer()
    response = await client.post("/api/orders", json=order_body(other.id), headers=customer.headers)
    assert response.status_code == 422 and response.json()["code"] == "unknown_vendor"


async def test_malformed_json_is_422_malformed_json(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    customer = await accounts.customer()
    response = await client.post(
        "/api/orders",
        content=b'{"vendor_id": "1", "items": [',
        headers={**customer.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "malformed_json"
    assert await _totals(app) == (0, 0, 0)


async def test_huge_body_is_413(client: httpx.AsyncClient, accounts: Accounts, app: Any) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    body = order_body(vendor.id, note="x" * 200_000)
    response = await client.post("/api/orders", json=body, headers=customer.headers)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert await _totals(app) == (0, 0, 0)


async def test_unknown_order_ids_are_404(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    for oid in ("424242", "abc", "-1", "9" * 40):
        response = await client.get(f"/api/orders/{oid}", headers=vendor.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "order_not_found"


async def test_bad_status_value_is_422(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    oid = (
        await client.post("/api/orders", json=order_body(vendor.id), headers=customer.headers)
    ).json()["id"]
    response = await client.post(
        f"/api/orders/{oid}/status", json={"status": "teleported"}, headers=vendor.headers
    )
    assert response.status_code == 422
    pay = await client.post(
        f"/api/orders/{oid}/payments", json={"amount_cents": 0}, headers=customer.headers
    )
    assert pay.status_code == 422
