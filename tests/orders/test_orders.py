"""Placing orders, idempotency, the state machine, payments, refunds and messages."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from server.notifications.models import Notification
from server.orders.models import Order
from tests.conftest import Accounts, order_body, place_order


async def _count(app: object, model: type) -> int:
    async with app.state.db.reader() as session:  # type: ignore[attr-defined]
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_customer_places_order_and_vendor_is_notified(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor("Bean There")
    customer = await accounts.customer("Alice")
    order = await place_order(client, customer, vendor)
    assert order["status"] == "pending"
    assert order["total_cents"] == 2 * 350 + 220
    assert order["vendor"] == {"id": vendor.id, "name": "Bean There"}
    assert order["allowed_transitions"] == ["cancelled"]
    inbox = (await client.get("/api/notifications", headers=vendor.headers)).json()
    [note] = inbox["items"]
    assert note["event"] == "order.created" and note["type"] == "order"
    assert note["title"] == f"New order #{order['id']}"
    assert note["body"] == "3 items, €9.20 from Alice"
    assert note["url"] == f"/orders/{order['id']}"
    customer_inbox = (await client.get("/api/notifications", headers=customer.headers)).json()
    assert customer_inbox["items"] == []


async def test_vendor_cannot_place_orders(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    response = await client.post("/api/orders", json=order_body(vendor.id), headers=vendor.headers)
    assert response.status_code == 403 and response.json()["code"] == "customer_only"


async def test_retried_post_with_idempotency_key_returns_first_order(
    client: httpx.AsyncClient, accounts: Accounts, app: object
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    headers = {**customer.headers, "Idempotency-Key": "checkout-123"}
    first = await client.post("/api/orders", json=order_body(vendor.id), headers=headers)
    again = await client.post("/api/orders", json=order_body(vendor.id), headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(app, Order) == 1
    assert await _count(app, Notification) == 1
    other = await client.post(
        "/api/orders", json=order_body(vendor.id, currency="USD"), headers=headers
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


async def test_concurrent_posts_with_one_key_create_exactly_one_order(
    client: httpx.AsyncClient, accounts: Accounts, app: object
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    headers = {**customer.headers, "Idempotency-Key": "tap-tap-tap"}
    responses = await asyncio.gather(
        *(
            client.post("/api/orders", json=order_body(vendor.id), headers=headers)
            for _ in range(20)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _count(app, Order) == 1
    assert await _count(app, Notification) == 1


async def test_concurrent_writers_never_see_database_is_locked(
    client: httpx.AsyncClient, accounts: Accounts, app: object
) -> None:
    """Orders, payments and inbox writes racing each other all succeed (SQLite: WAL +
    BEGIN IMMEDIATE + busy timeout; PostgreSQL: row locks)."""
    vendor = await accounts.vendor()
    customers = [await accounts.customer() for _ in range(8)]
    first = [await place_order(client, c, vendor) for c in customers]
    writes = [
        *(
            client.post("/api/orders", json=order_body(vendor.id), headers=c.headers)
            for c in customers
            for _ in range(3)
        ),
        *(
            client.post(
                f"/api/orders/{o['id']}/payments", json={"amount_cents": 100}, headers=c.headers
            )
            for o, c in zip(first, customers, strict=True)
        ),
        *(
            client.post("/api/notifications/mark-all-read", headers=vendor.headers)
            for _ in range(8)
        ),
    ]
    responses = await asyncio.gather(*writes)
    assert [r.status_code for r in responses if r.status_code >= 300] == []
    assert await _count(app, Order) == 8 + 24


async def test_order_lifecycle_notifies_the_other_party(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor("Shop"), await accounts.customer("Bob")
    order = await place_order(client, customer, vendor)
    oid = order["id"]
    accepted = await client.post(f"/api/orders/{oid}/accept", headers=vendor.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    for status in ("preparing", "shipped", "delivered"):
        moved = await client.post(
            f"/api/orders/{oid}/status", json={"status": status}, headers=vendor.headers
        )
        assert moved.status_code == 200 and moved.json()["status"] == status
    events = [
        n["event"]
        for n in (await client.get("/api/notifications", headers=customer.headers)).json()["items"]
    ]
    assert events == ["order.delivered", "order.shipped", "order.preparing", "order.accepted"]


async def test_illegal_transition_is_409_and_status_unchanged(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    oid = (await place_order(client, customer, vendor))["id"]
    response = await client.post(
        f"/api/orders/{oid}/status", json={"status": "shipped"}, headers=vendor.headers
    )
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert (await client.get(f"/api/orders/{oid}", headers=vendor.headers)).json()[
        "status"
    ] == "pending"
    rejected = await client.post(
        f"/api/orders/{oid}/reject", json={"reason": "Sold out"}, headers=vendor.headers
    )
    assert rejected.json()["status"] == "rejected"
    again = await client.post(f"/api/orders/{oid}/accept", headers=vendor.headers)
    assert again.status_code == 409
    note = (await client.get("/api/notifications", headers=customer.headers)).json()["items"][0]
    assert note["event"] == "order.rejected" and "Sold out" in note["body"]


async def test_customer_may_cancel_only_while_pending(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    first = (await place_order(client, customer, vendor))["id"]
    cancelled = await client.post(
        f"/api/orders/{first}/status", json={"status": "cancelled"}, headers=customer.headers
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    vendor_note = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"][
        0
    ]
    assert vendor_note["event"] == "order.cancelled"
    second = (await place_order(client, customer, vendor))["id"]
    await client.post(f"/api/orders/{second}/accept", headers=vendor.headers)
    late = await client.post(
        f"/api/orders/{second}/status", json={"status": "cancelled"}, headers=customer.headers
    )
    assert late.status_code == 409
    shipping = await client.post(
        f"/api/orders/{second}/status", json={"status": "preparing"}, headers=customer.headers
    )
    assert shipping.status_code == 403


async def test_payments_and_refunds_never_exceed_what_is_owed_or_paid(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer("Cleo")
    oid = (await place_order(client, customer, vendor))["id"]  # 920 cents
    paid = await client.post(
        f"/api/orders/{oid}/payments", json={"amount_cents": 920}, headers=customer.headers
    )
    assert paid.status_code == 201 and paid.json()["paid_cents"] == 920
    over = await client.post(
        f"/api/orders/{oid}/payments", json={"amount_cents": 1}, headers=customer.headers
    )
    assert over.status_code == 409 and over.json()["code"] == "overpayment"
    assert over.json()["detail"] == "Only €0.00 is still to pay on this order."
    refund = await client.post(
        f"/api/orders/{oid}/refunds",
        json={"amount_cents": 500, "reason": "Cold coffee"},
        headers=vendor.headers,
    )
    assert refund.status_code == 201 and refund.json()["refunded_cents"] == 500
    too_much = await client.post(
        f"/api/orders/{oid}/refunds", json={"amount_cents": 421}, headers=vendor.headers
    )
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_exceeds_paid"
    assert too_much.json()["detail"] == "Only €4.20 can be refunded: never more than was paid."
    order = (await client.get(f"/api/orders/{oid}", headers=customer.headers)).json()
    assert order["refunded_cents"] == 500
    assert [p["kind"] for p in order["payments"]] == ["payment", "refund"]
    vendor_events = [
        n["event"]
        for n in (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    ]
    # The vendor made the refund: no notice of it to themselves.
    assert "payment.refunded" not in vendor_events and vendor_events[0] == "payment.received"
    customer_note = (await client.get("/api/notifications", headers=customer.headers)).json()[
        "items"
    ][0]
    assert customer_note["event"] == "payment.refunded" and "€5.00" in customer_note["body"]


async def test_messages_reach_the_other_party(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor("Deli"), await accounts.customer("Dan")
    oid = (await place_order(client, customer, vendor))["id"]
    sent = await client.post(
        f"/api/orders/{oid}/messages", json={"body": "Extra napkins?"}, headers=customer.headers
    )
    assert sent.status_code == 201
    assert sent.json()["messages"][0]["body"] == "Extra napkins?"
    note = (await client.get("/api/notifications?type=message", headers=vendor.headers)).json()
    assert note["items"][0]["body"] == "Dan: Extra napkins?"
    reply = await client.post(
        f"/api/orders/{oid}/messages", json={"body": "Sure!"}, headers=vendor.headers
    )
    assert reply.status_code == 201
    customer_note = (
        await client.get("/api/notifications?type=message", headers=customer.headers)
    ).json()["items"][0]
    assert customer_note["body"] == "Deli: Sure!"


async def test_list_orders_shows_only_the_callers(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    v1, v2, c1 = await accounts.vendor(), await accounts.vendor(), await accounts.customer()
    o1 = await place_order(client, c1, v1)
    o2 = await place_order(client, c1, v2)
    assert [o["id"] for o in (await client.get("/api/orders", headers=v1.headers)).json()] == [
        o1["id"]
    ]
    assert [o["id"] for o in (await client.get("/api/orders", headers=c1.headers)).json()] == [
        o2["id"],
        o1["id"],
    ]


async def test_vendor_records_cash_at_pickup_and_the_customer_is_told(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor("Bea's Bakery"), await accounts.customer("Cleo")
    oid = (await place_order(client, customer, vendor))["id"]  # 920 cents
    cash = await client.post(
        f"/api/orders/{oid}/cash-payments", json={"amount_cents": 500}, headers=vendor.headers
    )
    assert cash.status_code == 201, cash.text
    assert cash.json()["paid_cents"] == 500
    assert [p["kind"] for p in cash.json()["payments"]] == ["payment"]
    inbox = (await client.get("/api/notifications", headers=customer.headers)).json()["items"]
    [note] = [n for n in inbox if n["type"] == "payment"]
    assert note["event"] == "payment.recorded"
    assert note["title"] == f"Bea's Bakery received €5.00 for #{oid}"
    assert note["body"] == "Paid in cash, recorded by Bea's Bakery — €4.20 to go."
    vendor_inbox = (await client.get("/api/notifications", headers=vendor.headers)).json()
    assert not [n for n in vendor_inbox["items"] if n["type"] == "payment"]
    # Never more than is owed, said in money.
    over = await client.post(
        f"/api/orders/{oid}/cash-payments", json={"amount_cents": 421}, headers=vendor.headers
    )
    assert over.status_code == 409 and over.json()["code"] == "overpayment"
    assert over.json()["detail"] == "Only €4.20 is still to pay on this order."
