"""Money is 64-bit everywhere: what validation lets in, every database stores exactly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from server.orders.schemas import MAX_CENTS
from tests.conftest import Accounts, order_body, place_order

INT32_MAX = 2**31 - 1
# The most validation allows: 100 lines of 10,000 units at MAX_CENTS.
LARGEST_ITEMS = [
    {"name": f"Gold bar {n}", "quantity": 10_000, "unit_price_cents": MAX_CENTS} for n in range(100)
]


async def test_largest_order_is_stored_and_read_back_exactly(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    order = await place_order(client, customer, vendor, items=LARGEST_ITEMS)
    assert order["total_cents"] == 100 * 10_000 * MAX_CENTS == 10**14
    again = (await client.get(f"/api/orders/{order['id']}", headers=customer.headers)).json()
    assert again["total_cents"] == 10**14
    assert {i["unit_price_cents"] for i in again["items"]} == {MAX_CENTS}

    # One cent more on one line is past what validation allows: a 422, not a 500.
    over = [*LARGEST_ITEMS[:-1], {**LARGEST_ITEMS[-1], "unit_price_cents": MAX_CENTS + 1}]
    response = await client.post(
        "/api/orders", json=order_body(vendor.id, items=over), headers=customer.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_paid_and_refunded_sums_pass_32_bits(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    items = [{"name": "Pallet", "quantity": 30, "unit_price_cents": MAX_CENTS}]
    order = await place_order(client, customer, vendor, items=items)
    oid = order["id"]
    assert order["total_cents"] == 30 * MAX_CENTS > INT32_MAX
    payments = INT32_MAX // MAX_CENTS + 1  # 22 payments of MAX_CENTS pass 2^31
    for _ in range(payments):
        paid = await client.post(
            f"/api/orders/{oid}/payments",
            json={"amount_cents": MAX_CENTS},
            headers=customer.headers,
        )
        assert paid.status_code == 201, paid.text
    for _ in range(payments):
        refund = await client.post(
            f"/api/orders/{oid}/refunds", json={"amount_cents": MAX_CENTS}, headers=vendor.headers
        )
        assert refund.status_code == 201, refund.text
    final: dict[str, Any] = (await client.get(f"/api/orders/{oid}", headers=vendor.headers)).json()
    assert final["paid_cents"] == final["refunded_cents"] == payments * MAX_CENTS > INT32_MAX


@pytest.mark.postgres
async def test_money_columns_are_bigint_on_postgresql(pg_database: str) -> None:
    engine = create_async_engine(pg_database)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns"
                    " WHERE column_name LIKE '%\\_cents' AND table_schema = 'public'"
                )
            )
        ).all()
    await engine.dispose()
    types = {f"{table}.{column}": kind for table, column, kind in rows}
    assert types == {
        "orders.total_cents": "bigint",
        "orders.paid_cents": "bigint",
        "orders.refunded_cents": "bigint",
        "order_items.unit_price_cents": "bigint",
        "order_payments.amount_cents": "bigint",
        "shop_orders.total_cents": "bigint",
    }
