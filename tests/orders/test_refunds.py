"""A refund is money given back: it lowers what the order costs, it never reopens the
bill (issue: "Outstanding €2.20" and a Pay button after €9.20 paid, €2.20 refunded)."""

from __future__ import annotations

import httpx

from tests.conftest import Account, Accounts, place_order


async def _post(
    client: httpx.AsyncClient, who: Account, path: str, **body: object
) -> httpx.Response:
    return await client.post(path, json=body, headers=who.headers)


async def test_a_refund_after_full_payment_leaves_nothing_to_pay(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    oid = (await place_order(client, customer, vendor))["id"]  # €9.20
    assert (
        await _post(client, customer, f"/api/orders/{oid}/payments", amount_cents=920)
    ).is_success
    refund = await _post(client, vendor, f"/api/orders/{oid}/refunds", amount_cents=220)
    assert refund.status_code == 201 and refund.json()["outstanding_cents"] == 0
    for who in (customer, vendor):
        order = (await client.get(f"/api/orders/{oid}", headers=who.headers)).json()
        assert (order["paid_cents"], order["refunded_cents"], order["outstanding_cents"]) == (
            920,
            220,
            0,
        )
    again = await _post(client, customer, f"/api/orders/{oid}/payments", amount_cents=220)
    assert again.status_code == 409 and again.json()["code"] == "overpayment"


async def test_a_refund_on_a_partly_paid_order_does_not_raise_what_is_owed(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer("Cleo")
    oid = (await place_order(client, customer, vendor))["id"]  # €9.20
    assert (
        await _post(client, customer, f"/api/orders/{oid}/payments", amount_cents=500)
    ).is_success
    refund = await _post(client, vendor, f"/api/orders/{oid}/refunds", amount_cents=200)
    assert refund.json()["outstanding_cents"] == 420
    paid = await _post(client, customer, f"/api/orders/{oid}/payments", amount_cents=100)
    assert paid.json()["outstanding_cents"] == 320
    inbox = (await client.get("/api/notifications", headers=vendor.headers)).json()
    assert inbox["items"][0]["body"] == "Cleo paid €1.00 — €3.20 to go."
