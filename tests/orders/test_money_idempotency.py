"""Idempotency-Key on payments, cash payments and refunds: a retried POST records the
money once and answers as the first time did."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from server.orders.models import OrderPayment
from tests.conftest import Account, Accounts, place_order


async def _payments(app: Any) -> int:
    async with app.state.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(OrderPayment)) or 0)


async def _events(client: httpx.AsyncClient, user: Account) -> list[str]:
    inbox = (await client.get("/api/notifications", headers=user.headers)).json()
    return [n["event"] for n in inbox["items"]]


def _keyed(user: Account, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


async def test_a_retried_payment_is_recorded_once_and_answered_the_same(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    path = f"/api/orders/{(await place_order(client, customer, vendor))['id']}/payments"
    headers = _keyed(customer, "pay-1")
    first = await client.post(path, json={"amount_cents": 920}, headers=headers)
    again = await client.post(path, json={"amount_cents": 920}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert first.json()["paid_cents"] == 920 and await _payments(app) == 1
    assert (await _events(client, vendor)).count("payment.received") == 1


async def test_a_retried_cash_payment_is_recorded_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    path = f"/api/orders/{(await place_order(client, customer, vendor))['id']}/cash-payments"
    answers = [
        await client.post(path, json={"amount_cents": 500}, headers=_keyed(vendor, "cash-1"))
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].json() == answers[0].json()
    assert answers[1].json()["paid_cents"] == 500 and await _payments(app) == 1


async def test_a_retried_refund_is_recorded_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    oid = (await place_order(client, customer, vendor))["id"]
    paid = await client.post(
        f"/api/orders/{oid}/payments", json={"amount_cents": 920}, headers=customer.headers
    )
    assert paid.status_code == 201
    body = {"amount_cents": 920, "reason": "Out of croissants"}
    path = f"/api/orders/{oid}/refunds"
    first = await client.post(path, json=body, headers=_keyed(vendor, "refund-1"))
    # The first refund returned everything: a second one would be refused, a retry is not.
    again = await client.post(path, json=body, headers=_keyed(vendor, "refund-1"))
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.json()["refunded_cents"] == 920
    assert await _payments(app) == 2
    assert (await _events(client, customer)).count("payment.refunded") == 1


async def test_a_key_reused_for_another_request_is_refused_with_a_code(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    oid = (await place_order(client, customer, vendor))["id"]
    other = (await place_order(client, customer, vendor))["id"]
    headers = _keyed(customer, "pay-2")
    first = await client.post(
        f"/api/orders/{oid}/payments", json={"amount_cents": 100}, headers=headers
    )
    assert first.status_code == 201
    for path, amount in ((oid, 200), (other, 100)):
        response = await client.post(
            f"/api/orders/{path}/payments", json={"amount_cents": amount}, headers=headers
        )
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "idempotency_key_reused"
    order = (await client.get(f"/api/orders/{oid}", headers=customer.headers)).json()
    assert order["paid_cents"] == 100


async def test_idempotency_keys_belong_to_their_sender(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    alice, bob = await accounts.customer(), await accounts.customer()
    for customer in (alice, bob):
        oid = (await place_order(client, customer, vendor))["id"]
        response = await client.post(
            f"/api/orders/{oid}/payments", json={"amount_cents": 100}, headers=_keyed(customer, "k")
        )
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
        cash = await client.post(
            f"/api/orders/{oid}/cash-payments",
            json={"amount_cents": 100},
            headers=_keyed(vendor, "k" + customer.id),
        )
        assert cash.status_code == 201 and "idempotent-replayed" not in cash.headers
    assert await _payments(app) == 4


async def test_concurrent_payments_with_one_key_record_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    path = f"/api/orders/{(await place_order(client, customer, vendor))['id']}/payments"
    headers = _keyed(customer, "tap-tap")
    responses = await asyncio.gather(
        *(client.post(path, json={"amount_cents": 300}, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert {r.json()["paid_cents"] for r in responses} == {300}
    assert await _payments(app) == 1
    assert (await _events(client, vendor)).count("payment.received") == 1


async def test_an_empty_idempotency_key_is_no_key(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    path = f"/api/orders/{(await place_order(client, customer, vendor))['id']}/payments"
    for _ in range(2):
        response = await client.post(path, json={"amount_cents": 100}, headers=_keyed(customer, ""))
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers
    assert await _payments(app) == 2
