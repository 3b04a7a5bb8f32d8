"""IDs are ASCII digits only: '²' and '٣' are neither a 500 nor an alias of order 3."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Accounts, order_body, place_order
from tests.integrations.test_events import event, issue_key, send, stored

NOT_ASCII_DIGITS = ["%C2%B2", "%C2%B9", "%D9%A3", "%EF%BC%93", "3%C2%B2"]  # ² ¹ ٣, fullwidth 3, 3²


async def test_ids_in_paths_that_are_not_ascii_digits_are_not_found(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    for _ in range(3):
        await place_order(client, customer, vendor)  # order 3 exists: ٣ must not find it
    for raw in NOT_ASCII_DIGITS:
        for method, path in [
            ("GET", f"/api/orders/{raw}"),
            ("POST", f"/api/orders/{raw}/accept"),
            ("POST", f"/api/notifications/{raw}/read"),
            ("DELETE", f"/api/push/subscriptions/{raw}"),
        ]:
            response = await client.request(method, path, headers=vendor.headers)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["code"].endswith("not_found"), (path, response.json())


async def test_ids_in_bodies_that_are_not_ascii_digits_are_refused(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    key = await issue_key(app)
    for digits in ["²", "٣", "\uff13"]:  # the last: fullwidth 3
        response = await client.post(
            "/api/orders", json=order_body(digits), headers=customer.headers
        )
        assert (response.status_code, response.json()["code"]) == (422, "unknown_vendor"), digits
        response = await send(client, key, event(digits, event_id=f"evt_{ord(digits)}"))
        assert response.status_code == 422, (digits, response.text)
    assert await stored(app) == (0, 0)
