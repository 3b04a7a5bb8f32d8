"""Analytics: figures computed from known events, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from server.notifications.models import Notification
from server.push.models import PushDelivery
from tests.conftest import Account, Accounts, place_order
from tests.preferences.factories import add_device

T = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
RANGE = "from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z"


async def _set(app: Any, notification_id: int, statuses: list[str], **times: Any) -> None:
    async with app.state.db.writer() as session:
        await session.execute(
            update(Notification).where(Notification.id == notification_id).values(**times)
        )
        ids = (
            await session.scalars(
                select(PushDelivery.id)
                .where(PushDelivery.notification_id == notification_id)
                .order_by(PushDelivery.id)
            )
        ).all()
        for delivery_id, status in zip(ids, statuses, strict=True):
            await session.execute(
                update(PushDelivery).where(PushDelivery.id == delivery_id).values(status=status)
            )
        await session.commit()


async def _vendor_notifications(app: Any, vendor: Account) -> list[Notification]:
    async with app.state.db.reader() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == int(vendor.id)).order_by("id")
        )
        return list(rows)


async def test_summary_counts_known_events_exactly(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    await add_device(app, vendor.id)
    a = await place_order(client, customer, vendor)
    await place_order(client, customer, vendor)
    await place_order(client, customer, vendor)
    paid = await client.post(
        f"/api/orders/{a['id']}/payments", json={"amount_cents": 100}, headers=customer.headers
    )
    assert paid.status_code in (200, 201)
    first, second, outside, payment = [n.id for n in await _vendor_notifications(app, vendor)]
    await _set(
        app,
        first,
        ["delivered", "delivered"],
        created_at=T,
        shown_at=T + timedelta(seconds=5),
        clicked_at=T + timedelta(seconds=60),
        read_at=T + timedelta(seconds=60),
    )
    later = T + timedelta(hours=2)
    await _set(
        app,
        second,
        ["delivered", "failed"],
        created_at=later,
        shown_at=later + timedelta(seconds=1),
        read_at=later + timedelta(seconds=180),
    )
    await _set(app, payment, ["expired", "queued"], created_at=T + timedelta(days=1))
    await _set(
        app, outside, ["delivered", "delivered"], created_at=T - timedelta(hours=10, seconds=1)
    )

    response = await client.get(f"/api/analytics/summary?{RANGE}", headers=vendor.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    orders = {
        "notifications": 2,
        "sent": 4,
        "queued": 0,
        "delivered": 3,
        "failed": 1,
        "expired": 0,
        "reached": 2,
        "shown": 2,
        "clicked": 1,
        "read": 2,
        "ctr": 0.5,
        "median_seconds_to_read": 120.0,
    }
    payments = {
        "notifications": 1,
        "sent": 2,
        "queued": 1,
        "delivered": 0,
        "failed": 0,
        "expired": 1,
        "reached": 0,
        "shown": 0,
        "clicked": 0,
        "read": 0,
        "ctr": None,
        "median_seconds_to_read": None,
    }
    assert body["from"] == "2026-11-01T00:00:00Z"
    assert body["by_type"]["order"] == orders
    assert body["by_type"]["payment"] == payments
    assert body["by_type"]["message"]["notifications"] == 0
    assert body["totals"] == {
        **{
            k: orders[k] + payments[k] for k in orders if k not in ("ctr", "median_seconds_to_read")
        },
        "ctr": 0.5,
        "median_seconds_to_read": 120.0,
    }
    assert body["by_day"] == [
        {"date": "2026-11-01", **orders},
        {"date": "2026-11-02", **payments},
    ]
    # In Pago Pago (UTC-11, no DST) the first order falls on 31 Oct at 23:00, the second
    # on 1 Nov at 01:00 and the payment on 1 Nov at 23:00.
    local = await client.get(
        f"/api/analytics/summary?{RANGE}&tz=Pacific/Pago_Pago", headers=vendor.headers
    )
    assert local.json()["tz"] == "Pacific/Pago_Pago"
    assert [(d["date"], d["notifications"], d["clicked"]) for d in local.json()["by_day"]] == [
        ("2026-10-31", 1, 1),
        ("2026-11-01", 2, 0),
    ]
    other = await client.get(f"/api/analytics/summary?{RANGE}", headers=customer.headers)
    assert other.json()["totals"]["notifications"] == 0  # only the caller's own


async def test_a_click_reported_by_the_service_worker_shows_up(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await place_order(client, customer, vendor)
    [notification] = (await client.get("/api/notifications", headers=vendor.headers)).json()[
        "items"
    ]
    for event in ("shown", "clicked"):
        r = await client.post(
            f"/api/notifications/{notification['id']}/events",
            json={"event": event},
            headers=vendor.headers,
        )
        assert r.status_code == 204
    totals = (await client.get("/api/analytics/summary", headers=vendor.headers)).json()["totals"]
    assert (totals["notifications"], totals["shown"], totals["clicked"], totals["read"]) == (
        1,
        1,
        1,
        1,
    )


async def test_mark_all_read_is_no_reading_but_opening_one_is(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    for _ in range(3):
        await place_order(client, customer, vendor)
    first, second, third = [n.id for n in await _vendor_notifications(app, vendor)]

    async def figures() -> tuple[int, float | None]:
        r = await client.get(f"/api/analytics/summary?{RANGE}", headers=vendor.headers)
        assert r.status_code == 200, r.text
        totals = r.json()["totals"]
        return totals["read"], totals["median_seconds_to_read"]

    opened = await client.post(f"/api/notifications/{first}/read", headers=vendor.headers)
    assert opened.status_code == 200
    await _set(app, first, [], created_at=T, read_at=T + timedelta(seconds=60))
    for other in (second, third):
        await _set(app, other, [], created_at=T)
    assert await figures() == (1, 60.0)

    bulk = await client.post("/api/notifications/mark-all-read", headers=vendor.headers)
    assert bulk.json()["updated"] == 2
    # Read now, weeks after T: counted as read, but no reading time.
    assert await figures() == (3, 60.0)
    flags = {n.id: n.read_in_bulk for n in await _vendor_notifications(app, vendor)}
    assert flags == {first: False, second: True, third: True}

    await place_order(client, customer, vendor)
    fourth = (await _vendor_notifications(app, vendor))[-1].id
    opened = await client.post(f"/api/notifications/{fourth}/read", headers=vendor.headers)
    assert opened.status_code == 200
    await _set(app, fourth, [], created_at=T, read_at=T + timedelta(seconds=180))
    assert await figures() == (4, 120.0)


async def test_bad_ranges_are_refused(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    cases = {
        "from=2026-11-03T00:00:00Z&to=2026-11-01T00:00:00Z": "invalid_range",
        "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z": "range_too_long",
        "from=yesterday": "validation_error",
        "tz=Moon/Base": "invalid_time_zone",
    }
    for query, code in cases.items():
        r = await client.get(f"/api/analytics/summary?{query}", headers=vendor.headers)
        assert (r.status_code, r.json()["code"]) == (422, code), query
    assert (await client.get("/api/analytics/summary")).status_code == 401
