"""A pending order rings again until it is answered, and every lock screen follows it.

The reminder loop's step (`send_due`) is called with the time each test wants, so
nothing waits on a real clock; the pushes are the outbox rows the worker would send.
(tests/push/test_order_alerts.py runs the same through a real worker and push service.)
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.core.db import utcnow
from server.notifications.models import Notification
from server.notifications.preferences.digest import release_held
from server.notifications.preferences.models import HeldPush
from server.orders.alerts.emails import emails_for_order
from server.orders.alerts.models import OrderReminder
from server.orders.alerts.reminders import send_due
from server.push.models import PushDelivery
from tests.conftest import Account, Accounts, place_order
from tests.preferences.factories import add_device


async def reminder_row(app: Any, order_id: str) -> OrderReminder:
    async with app.state.units.reader() as uow:
        row = await uow.session.scalar(
            select(OrderReminder).where(OrderReminder.order_id == int(order_id))
        )
    assert row is not None
    return row


async def tick(app: Any, at: datetime) -> int:
    """One pass of the reminder loop at `at`."""
    async with app.state.units.writer() as uow:
        rung = await send_due(uow, at)
        await uow.commit()
    return rung


async def pushes(app: Any, user: Account) -> list[dict[str, Any]]:
    """The user's queued pushes, oldest first: headers and the decoded notification."""
    async with app.state.units.reader() as uow:
        rows = await uow.session.scalars(
            select(PushDelivery)
            .join(Notification, Notification.id == PushDelivery.notification_id)
            .where(Notification.user_id == int(user.id))
            .order_by(PushDelivery.id)
        )
        return [
            {
                "notification_id": str(d.notification_id),
                "topic": d.topic,
                "urgency": d.urgency,
                **json.loads(d.payload)["notification"],
            }
            for d in rows
        ]


async def email_reasons(app: Any, order_id: str) -> list[str]:
    async with app.state.units.reader() as uow:
        return [e.reason for e in await emails_for_order(uow.session, int(order_id))]


async def set_alerts(
    client: httpx.AsyncClient, user: Account, every: int, repeats: int, **quiet: Any
) -> None:
    body: dict[str, Any] = {"order_alerts": {"repeat_every_seconds": every, "max_repeats": repeats}}
    if quiet:
        body["quiet_hours"] = quiet
    response = await client.put("/api/preferences", json=body, headers=user.headers)
    assert response.status_code == 200, response.text


async def shop(app: Any, accounts: Accounts) -> tuple[Account, Account]:
    vendor = await accounts.vendor("Corner Bakery")
    customer = await accounts.customer("Alice")
    await add_device(app, vendor.id)
    await add_device(app, customer.id)
    return vendor, customer


async def test_a_pending_order_rings_max_repeats_times_then_emails_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    await add_device(app, vendor.id)  # a second device: each gets every reminder
    await set_alerts(client, vendor, 60, 3)
    order = await place_order(client, customer, vendor)
    row = await reminder_row(app, order["id"])
    start = row.next_due_at - timedelta(seconds=60)

    assert await tick(app, start + timedelta(seconds=59)) == 0
    for n in (1, 2, 3):
        assert await tick(app, start + timedelta(seconds=60 * n)) == 1
        assert await tick(app, start + timedelta(seconds=60 * n + 30)) == 0  # not yet due
    assert await email_reasons(app, order["id"]) == []
    await tick(app, start + timedelta(seconds=240))  # one spacing after the last
    await tick(app, start + timedelta(hours=5))

    sent = await pushes(app, vendor)
    assert len(sent) == 2 * 4  # the order and three reminders, on two devices
    tag = f"order-{order['id']}"
    assert {(p["tag"], p["topic"]) for p in sent} == {(tag, tag)}
    assert {p["notification_id"] for p in sent} == {sent[0]["notification_id"]}
    reminders = [p for p in sent if p["data"]["event"] == "order.reminder"]
    assert [p["title"] for p in reminders[::2]] == [
        f"Still waiting: order #{order['id']} · {m} min" for m in (1, 2, 3)
    ]
    assert all(p["renotify"] is True and p["urgency"] == "high" for p in reminders)
    assert [p["data"]["reminders"] for p in reminders[::2]] == [1, 2, 3]
    assert sent[0]["renotify"] is False and sent[0]["data"]["event"] == "order.created"
    # One inbox item, still one unread, saying how many reminders it had.
    listing = (await client.get("/api/notifications", headers=vendor.headers)).json()
    assert [(i["event"], i["data"].get("reminders")) for i in listing["items"]] == [
        ("order.created", 3)
    ]
    counts = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert counts["unread"] == 1
    assert await email_reasons(app, order["id"]) == ["unanswered"]
    assert (await reminder_row(app, order["id"])).status == "done"


@pytest.mark.parametrize(
    ("path", "body", "event", "title"),
    [
        ("accept", None, "order.accepted", "accepted"),
        ("reject", {"reason": "Sold out"}, "order.rejected", "rejected"),
        ("status", {"status": "cancelled"}, "order.cancelled", "cancelled"),
    ],
)
async def test_the_vendors_answer_stops_reminders_and_replaces_every_lock_screen(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    path: str,
    body: dict[str, str] | None,
    event: str,
    title: str,
) -> None:
    vendor, customer = await shop(app, accounts)
    order = await place_order(client, customer, vendor)
    start = (await reminder_row(app, order["id"])).next_due_at
    assert await tick(app, start) == 1  # one reminder rang

    answer = await client.post(
        f"/api/orders/{order['id']}/{path}", json=body, headers=vendor.headers
    )
    assert answer.status_code == 200, answer.text
    for later in (1, 2, 3, 10):
        assert await tick(app, start + timedelta(minutes=2 * later)) == 0

    *_, reminder, state = await pushes(app, vendor)
    assert reminder["data"]["event"] == "order.reminder"
    tag = f"order-{order['id']}"
    assert (state["tag"], state["topic"], state["urgency"]) == (tag, tag, "normal")
    assert state["renotify"] is False
    assert state["data"]["event"] == event
    assert state["title"] == f"Order #{order['id']} {title}"
    assert state["notification_id"] == reminder["notification_id"]  # the order's own
    # No inbox item for the vendor's own answer; the customer still gets theirs.
    vendor_items = (await client.get("/api/notifications", headers=vendor.headers)).json()
    assert [i["event"] for i in vendor_items["items"]] == ["order.created"]
    customer_items = (await client.get("/api/notifications", headers=customer.headers)).json()
    assert [i["event"] for i in customer_items["items"]] == [event]
    assert (await reminder_row(app, order["id"])).status == "done"
    assert await email_reasons(app, order["id"]) == []


async def test_an_order_answered_before_its_first_reminder_gets_none(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    order = await place_order(client, customer, vendor)
    await client.post(f"/api/orders/{order['id']}/accept", headers=vendor.headers)

    assert await tick(app, utcnow() + timedelta(hours=1)) == 0
    assert [p["data"]["event"] for p in await pushes(app, vendor)] == [
        "order.created",
        "order.accepted",
    ]


async def test_a_customers_cancellation_replaces_the_lock_screen_by_its_own_inbox_push(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    order = await place_order(client, customer, vendor)

    cancel = await client.post(
        f"/api/orders/{order['id']}/status", json={"status": "cancelled"}, headers=customer.headers
    )
    assert cancel.status_code == 200, cancel.text
    assert await tick(app, utcnow() + timedelta(hours=1)) == 0

    created, cancelled = await pushes(app, vendor)
    tag = f"order-{order['id']}"
    assert (cancelled["tag"], cancelled["topic"], cancelled["urgency"]) == (tag, tag, "normal")
    assert cancelled["renotify"] is False
    assert cancelled["data"]["event"] == "order.cancelled"
    assert cancelled["title"] == f"Order #{order['id']} cancelled"
    assert cancelled["notification_id"] != created["notification_id"]  # an inbox item
    vendor_items = (await client.get("/api/notifications", headers=vendor.headers)).json()
    assert [i["event"] for i in vendor_items["items"]] == ["order.cancelled", "order.created"]


def quiet_window(now: datetime) -> dict[str, Any]:
    """Quiet hours (UTC) from an hour before `now` to three hours after it."""
    return {
        "enabled": True,
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=3)).strftime("%H:%M"),
        "time_zone": "UTC",
        "orders_ring": False,
    }


async def test_quiet_hours_that_hold_new_orders_hold_their_reminders(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    now = utcnow()
    await set_alerts(client, vendor, 60, 2, **quiet_window(now))
    order = await place_order(client, customer, vendor)
    assert await pushes(app, vendor) == []  # the new order itself is held

    for minutes in (1, 2, 3, 30, 120):
        assert await tick(app, now + timedelta(minutes=minutes, seconds=5)) == 0
    assert (await reminder_row(app, order["id"])).sent == 0
    assert await pushes(app, vendor) == []

    after = now + timedelta(hours=3, minutes=30)  # quiet hours are over
    assert await tick(app, after) == 0  # the order waits in the digest, which stands for it
    async with app.state.units.writer() as uow:
        assert await release_held(uow, after) == 1
        await uow.commit()
    assert await tick(app, after + timedelta(seconds=60)) == 1  # a spacing after the digest
    [digest, reminder] = await pushes(app, vendor)
    assert digest["data"]["event"] == "order.created"  # a digest of one: the order itself
    assert reminder["data"]["event"] == "order.reminder"
    assert reminder["title"].endswith((" · 3 hr, 30 min", " · 3 hr, 31 min"))  # Babel, CLDR


async def test_quiet_hours_ring_reminders_when_new_orders_ring(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    now = utcnow()
    await set_alerts(client, vendor, 60, 2, **{**quiet_window(now), "orders_ring": True})
    order = await place_order(client, customer, vendor)

    assert await tick(app, now + timedelta(seconds=65)) == 1
    assert [p["data"]["event"] for p in await pushes(app, vendor)] == [
        "order.created",
        "order.reminder",
    ]
    assert (await reminder_row(app, order["id"])).sent == 1


@pytest.mark.parametrize(("every", "repeats", "email_after"), [(0, 3, 120), (45, 0, 45)])
async def test_without_reminders_the_unanswered_email_comes_after_one_spacing(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    every: int,
    repeats: int,
    email_after: int,
) -> None:
    vendor, customer = await shop(app, accounts)
    await set_alerts(client, vendor, every, repeats)
    order = await place_order(client, customer, vendor)
    row = await reminder_row(app, order["id"])
    start = row.created_at

    await tick(app, start + timedelta(seconds=email_after - 2))
    assert await email_reasons(app, order["id"]) == []
    assert await tick(app, start + timedelta(seconds=email_after + 1)) == 0
    assert await email_reasons(app, order["id"]) == ["unanswered"]
    assert [p["data"]["event"] for p in await pushes(app, vendor)] == ["order.created"]


async def test_order_alerts_default_save_and_come_back(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    got = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert got["order_alerts"] == {"repeat_every_seconds": 120, "max_repeats": 3}
    await set_alerts(client, vendor, 0, 10)
    got = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert got["order_alerts"] == {"repeat_every_seconds": 0, "max_repeats": 10}


@pytest.mark.parametrize(
    "alerts",
    [
        {"repeat_every_seconds": 29},
        {"repeat_every_seconds": 1},
        {"repeat_every_seconds": 3601},
        {"repeat_every_seconds": -30},
        {"repeat_every_seconds": "120"},
        {"repeat_every_seconds": 120.5},
        {"repeat_every_seconds": True},
        {"repeat_every_seconds": None},
        {"max_repeats": 11},
        {"max_repeats": -1},
        {"max_repeats": "3"},
        {"max_repeats": 10**30},
        {"every": 60},
    ],
)
async def test_out_of_range_or_not_whole_numbers_are_refused(
    client: httpx.AsyncClient, accounts: Accounts, alerts: dict[str, Any]
) -> None:
    vendor = await accounts.vendor()
    response = await client.put(
        "/api/preferences", json={"order_alerts": alerts}, headers=vendor.headers
    )
    assert response.status_code == 422, response.text
    assert set(response.json()) >= {"detail", "code"}


async def test_nan_and_infinity_are_refused(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    for value in (math.nan, math.inf):
        raw = json.dumps({"order_alerts": {"repeat_every_seconds": value}})  # NaN, Infinity
        response = await client.put(
            "/api/preferences",
            content=raw,
            headers={**vendor.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert "code" in response.json()


async def test_an_order_answered_in_quiet_hours_leaves_the_digest_and_rings_nothing(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    await set_alerts(client, vendor, 60, 2, **quiet_window(utcnow()))
    kept = await place_order(client, customer, vendor)
    answered = await place_order(client, customer, vendor)

    await client.post(f"/api/orders/{answered['id']}/accept", headers=vendor.headers)

    async with app.state.units.reader() as uow:
        held = await uow.session.scalars(select(HeldPush.notification_id))
        orders = await uow.session.scalars(
            select(Notification.data).where(Notification.id.in_(list(held)))
        )
        assert [data["order_id"] for data in orders] == [kept["id"]]
    assert await pushes(app, vendor) == []  # quiet: not even the answer rings
