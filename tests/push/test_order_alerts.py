"""Orders that cannot be missed, end to end: the app with its worker and reminder loop,
and the loopback push service reading what a browser would.

The reminder spacing is at least 30 s through the API; these tests shorten the spacing
written in the order's reminder row (what the loop goes by) to keep to seconds.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from server.core.db import utcnow
from server.orders.alerts import reminders
from server.orders.alerts.emails import emails_for_order
from server.orders.alerts.models import OrderReminder
from tests.conftest import Account, Accounts, place_order
from tests.pushservice import PushService, Received

SPACING = 2.0


@pytest.fixture(autouse=True)
def quick_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reminder loop looks every 0.1 s instead of every second."""
    monkeypatch.setattr(reminders, "POLL_SECONDS", 0.1)


async def shorten(app: Any, order_id: str, seconds: float) -> None:
    """Reminders of the order every `seconds`, the first one `seconds` from now."""
    async with app.state.units.writer() as uow:
        await uow.session.execute(
            update(OrderReminder)
            .where(OrderReminder.order_id == int(order_id))
            .values(
                every_seconds=seconds,
                next_due_at=utcnow() + timedelta(seconds=seconds),
            )
        )
        await uow.commit()


async def email_reasons(app: Any, order_id: str) -> list[str]:
    async with app.state.units.reader() as uow:
        return [e.reason for e in await emails_for_order(uow.session, int(order_id))]


async def wait_for_email(app: Any, order_id: str, timeout: float = 10.0) -> list[str]:
    for _ in range(int(timeout / 0.1)):
        if found := await email_reasons(app, order_id):
            return found
        await asyncio.sleep(0.1)
    return []


async def vendor_with_device(
    client: httpx.AsyncClient, accounts: Accounts, push_service: PushService, repeats: int = 3
) -> tuple[Account, Any]:
    vendor = await accounts.vendor("Corner Bakery")
    device = push_service.subscribe()
    response = await client.post(
        "/api/push/subscriptions", json=device.to_json(label="phone"), headers=vendor.headers
    )
    assert response.status_code == 201, response.text
    prefs = {"order_alerts": {"repeat_every_seconds": 30, "max_repeats": repeats}}
    response = await client.put("/api/preferences", json=prefs, headers=vendor.headers)
    assert response.status_code == 200, response.text
    return vendor, device


def events(messages: list[Received]) -> list[str]:
    return [m.json["notification"]["data"]["event"] for m in messages]


async def test_a_pending_order_rings_then_max_repeats_reminders_at_the_spacing(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    vendor, phone = await vendor_with_device(worker_client, worker_accounts, push_service)
    customer = await worker_accounts.customer("Alice")
    order = await place_order(worker_client, customer, vendor)
    await shorten(worker_app, order["id"], SPACING)

    await push_service.wait_for(4, timeout=20)
    await asyncio.sleep(SPACING * 1.5)  # no fifth one

    received = push_service.messages_for(phone)
    assert events(received) == ["order.created"] + ["order.reminder"] * 3
    topic = tag = f"order-{order['id']}"
    assert {m.headers["Topic"] for m in received} == {topic}
    assert {m.json["notification"]["tag"] for m in received} == {tag}
    assert [m.json["notification"]["renotify"] for m in received] == [False, True, True, True]
    assert {m.headers["Urgency"] for m in received} == {"high"}
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(received[1:])]
    assert all(SPACING - 0.5 < gap < SPACING + 1.0 for gap in gaps), gaps
    assert await wait_for_email(worker_app, order["id"]) == ["unanswered"]
    counts = (await worker_client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert counts["unread"] == 1


async def test_accepting_stops_the_reminders_and_replaces_the_order_on_the_device(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    vendor, phone = await vendor_with_device(worker_client, worker_accounts, push_service)
    customer = await worker_accounts.customer("Alice")
    order = await place_order(worker_client, customer, vendor)
    await shorten(worker_app, order["id"], SPACING)
    await push_service.wait_for(2, timeout=20)  # the order and its first reminder

    accepted = await worker_client.post(f"/api/orders/{order['id']}/accept", headers=vendor.headers)
    assert accepted.status_code == 200, accepted.text
    await push_service.wait_for(3, timeout=10)
    await asyncio.sleep(SPACING * 2)

    received = push_service.messages_for(phone)
    assert events(received) == ["order.created", "order.reminder", "order.accepted"]
    state = received[-1]
    assert state.headers["Topic"] == state.json["notification"]["tag"] == f"order-{order['id']}"
    assert state.headers["Urgency"] == "normal"
    assert state.json["notification"]["renotify"] is False
    assert state.json["notification"]["title"] == f"Order #{order['id']} accepted"
    assert await email_reasons(worker_app, order["id"]) == []


async def test_an_order_whose_every_push_failed_is_emailed(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    vendor, phone = await vendor_with_device(worker_client, worker_accounts, push_service)
    push_service.answer(phone, 403)  # e.g. a VAPID key the push service refuses
    customer = await worker_accounts.customer("Alice")
    order = await place_order(worker_client, customer, vendor)

    assert await wait_for_email(worker_app, order["id"]) == ["push_failed"]
    async with worker_app.state.units.reader() as uow:
        row = await uow.session.scalar(
            select(OrderReminder).where(OrderReminder.order_id == int(order["id"]))
        )
    assert row is not None and (row.status, row.push_failed) == ("active", False)


async def test_an_order_delivered_to_one_device_is_not_emailed_when_another_fails(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    vendor, _ = await vendor_with_device(worker_client, worker_accounts, push_service)
    broken = push_service.subscribe()
    push_service.answer(broken, 403)
    await worker_client.post(
        "/api/push/subscriptions", json=broken.to_json(label="old"), headers=vendor.headers
    )
    customer = await worker_accounts.customer("Alice")
    order = await place_order(worker_client, customer, vendor)

    await push_service.wait_for(1, timeout=10)
    await asyncio.sleep(1.0)  # outcomes recorded, the loop looked several times
    assert await email_reasons(worker_app, order["id"]) == []
