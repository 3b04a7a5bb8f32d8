"""Order numbers count per vendor: "#1" is each vendor's first order, whatever the
marketplace's volume, and concurrent orders to one vendor never share a number."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Accounts, order_body, place_order


async def test_each_vendors_first_order_is_number_one(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    bakery, deli = await accounts.vendor("Bakery"), await accounts.vendor("Deli")
    customer = await accounts.customer("Alice")
    first = await place_order(client, customer, bakery)
    second = await place_order(client, customer, bakery)
    elsewhere = await place_order(client, customer, deli)
    assert (first["number"], second["number"], elsewhere["number"]) == ("#1", "#2", "#1")
    # The notice and the page say the vendor's number, not the marketplace's row id.
    [note] = (await client.get("/api/notifications", headers=deli.headers)).json()["items"]
    assert note["title"] == "New order #1" and elsewhere["id"] != "1"
    page = (await client.get(f"/api/orders/{elsewhere['id']}", headers=deli.headers)).json()
    assert page["number"] == "#1"


async def test_concurrent_orders_to_one_vendor_get_distinct_consecutive_numbers(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor("Busy Bakery")
    customers = [await accounts.customer(f"Customer {n}") for n in range(4)]
    orders = await asyncio.gather(
        *(place_order(client, customers[n % 4], vendor) for n in range(24))
    )
    numbers = sorted(int(order["number"].lstrip("#")) for order in orders)
    assert numbers == list(range(1, 25))


async def test_a_replayed_order_keeps_its_number_and_takes_no_other(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor("Bakery"), await accounts.customer("Alice")
    headers = {**customer.headers, "Idempotency-Key": "checkout-1"}
    body = order_body(vendor.id)
    answers = await asyncio.gather(
        *(client.post("/api/orders", json=body, headers=headers) for _ in range(5))
    )
    assert {a.json()["number"] for a in answers if a.status_code in (200, 201)} == {"#1"}
    after = await place_order(client, customer, vendor)
    assert after["number"] == "#2"
