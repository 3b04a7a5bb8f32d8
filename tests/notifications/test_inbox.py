"""The inbox: filters, a cursor stable under inserts, counts, read and seen state."""

from __future__ import annotations

import httpx

from tests.conftest import Account, Accounts, place_order


async def _orders(client: httpx.AsyncClient, customer: Account, vendor: Account, n: int) -> None:
    for _ in range(n):
        await place_order(client, customer, vendor)


async def test_cursor_pages_are_stable_while_new_notifications_arrive(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await _orders(client, customer, vendor, 5)
    first = (await client.get("/api/notifications?limit=2", headers=vendor.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    await _orders(client, customer, vendor, 3)  # arrive between page requests
    seen = [n["id"] for n in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await client.get(f"/api/notifications?limit=2&cursor={cursor}", headers=vendor.headers)
        ).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen == sorted(seen, key=int, reverse=True)


async def test_count_reports_unread_unseen_and_by_type(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    order = await place_order(client, customer, vendor)
    await client.post(
        f"/api/orders/{order['id']}/payments", json={"amount_cents": 100}, headers=customer.headers
    )
    await client.post(
        f"/api/orders/{order['id']}/messages", json={"body": "hello"}, headers=customer.headers
    )
    count = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert count == {
        "unread": 3,
        "unseen": 3,
        "by_type": {"order": 1, "payment": 1, "message": 1, "system": 0},
    }


async def test_mark_all_seen_clears_badge_but_keeps_items_unread(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await _orders(client, customer, vendor, 2)
    seen = await client.post("/api/notifications/mark-all-seen", headers=vendor.headers)
    assert seen.json() == {"updated": 2}
    count = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert count["unseen"] == 0 and count["unread"] == 2
    again = await client.post("/api/notifications/mark-all-seen", headers=vendor.headers)
    assert again.json() == {"updated": 0}


async def test_mark_read_is_idempotent_and_implies_seen(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await _orders(client, customer, vendor, 2)
    note = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"][0]
    first = await client.post(f"/api/notifications/{note['id']}/read", headers=vendor.headers)
    assert first.status_code == 200
    assert first.json()["read_at"] and first.json()["seen_at"]
    second = await client.post(f"/api/notifications/{note['id']}/read", headers=vendor.headers)
    assert second.json()["read_at"] == first.json()["read_at"]
    count = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert count["unread"] == 1 and count["unseen"] == 1


async def test_status_and_type_filters(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    order = await place_order(client, customer, vendor)
    await client.post(
        f"/api/orders/{order['id']}/messages", json={"body": "hi"}, headers=customer.headers
    )
    items = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    await client.post(f"/api/notifications/{items[0]['id']}/read", headers=vendor.headers)

    async def events(query: str) -> list[str]:
        page = (await client.get(f"/api/notifications?{query}", headers=vendor.headers)).json()
        return [n["event"] for n in page["items"]]

    assert await events("status=read") == ["message.created"]
    assert await events("status=unread") == ["order.created"]
    assert await events("type=order") == ["order.created"]
    assert await events("type=message&status=unread") == []
    bad = await client.get("/api/notifications?status=maybe", headers=vendor.headers)
    assert bad.status_code == 422
    bad_cursor = await client.get("/api/notifications?cursor=garbage!", headers=vendor.headers)
    assert bad_cursor.status_code == 422 and bad_cursor.json()["code"] == "invalid_cursor"
    too_many = await client.get("/api/notifications?limit=1000", headers=vendor.headers)
    assert too_many.status_code == 422


async def test_mark_all_read_and_trailing_slash(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await _orders(client, customer, vendor, 3)
    response = await client.post("/api/notifications/mark-all-read/", headers=vendor.headers)
    assert response.json() == {"updated": 3}
    page = await client.get("/api/notifications/?status=unread", headers=vendor.headers)
    assert page.status_code == 200 and page.json()["items"] == []


async def test_clicked_event_marks_read(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await place_order(client, customer, vendor)
    note = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"][0]
    shown = await client.post(
        f"/api/notifications/{note['id']}/events", json={"event": "shown"}, headers=vendor.headers
    )
    assert shown.status_code == 204
    assert (await client.get("/api/notifications/count", headers=vendor.headers)).json()[
        "unread"
    ] == 1
    clicked = await client.post(
        f"/api/notifications/{note['id']}/events", json={"event": "clicked"}, headers=vendor.headers
    )
    assert clicked.status_code == 204
    assert (await client.get("/api/notifications/count", headers=vendor.headers)).json()[
        "unread"
    ] == 0
    bad = await client.post(
        f"/api/notifications/{note['id']}/events", json={"event": "licked"}, headers=vendor.headers
    )
    assert bad.status_code == 422


async def test_notification_carries_push_outcome(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await place_order(client, customer, vendor)
    note = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"][0]
    assert note["push"] == {"queued": 0, "delivered": 0, "failed": 0, "expired": 0}


async def test_count_never_serves_a_stale_badge(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    """The count is cached in process; every change must show in the very next read."""
    vendor, customer = await accounts.vendor(), await accounts.customer()

    async def unread_unseen() -> tuple[int, int]:
        body = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
        return body["unread"], body["unseen"]

    assert await unread_unseen() == (0, 0)
    assert await unread_unseen() == (0, 0)  # now served from the cache
    await place_order(client, customer, vendor)
    assert await unread_unseen() == (1, 1)
    await client.post("/api/notifications/mark-all-seen", headers=vendor.headers)
    assert await unread_unseen() == (1, 0)
    await place_order(client, customer, vendor)
    assert await unread_unseen() == (2, 1)
    await client.post("/api/notifications/mark-all-read", headers=vendor.headers)
    assert await unread_unseen() == (0, 0)
