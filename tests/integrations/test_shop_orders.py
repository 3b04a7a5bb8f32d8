"""A marketplace's order gets the whole promise: it rings, reminds, falls back to email,
and the marketplace's answer stops the reminders and replaces it on every lock screen.

The reminder loop's step is called with the time each test wants (as in
tests/orders/test_reminders.py); the pushes are the outbox rows the worker would send.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from server.mail.models import OutgoingEmail
from server.orders.alerts.models import OrderReminder
from server.orders.shop.models import ShopOrder
from tests.conftest import Account, Accounts
from tests.integrations.test_events import event, issue_key, send, vendor_with_a_device
from tests.orders.test_reminders import pushes, set_alerts, tick
from tests.preferences.factories import add_device
from tests.pushservice import PushService


def answer(vendor: Account, kind: str, event_id: str, **data: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "vendor": vendor.id,
        "data": {"order_ref": "A-1001", **data},
    }


async def reminder(app: Any) -> OrderReminder:
    async with app.state.units.reader() as uow:
        row = await uow.session.scalar(
            select(OrderReminder).join(ShopOrder, ShopOrder.id == OrderReminder.shop_order_id)
        )
    assert row is not None
    return row


async def email_reasons(app: Any, vendor: Account) -> list[str]:
    async with app.state.units.reader() as uow:
        rows = await uow.session.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.user_id == int(vendor.id))
            .order_by(OutgoingEmail.id)
        )
        return [row.reason for row in rows]


async def test_a_shop_order_rings_reminds_and_its_acceptance_replaces_it_on_the_lock_screen(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    await add_device(app, vendor.id)
    await set_alerts(client, vendor, 60, 2)
    key = await issue_key(app)

    created = await send(client, key, event(vendor))
    assert created.status_code == 201, created.text
    [ring] = await pushes(app, vendor)
    assert ring["urgency"] == "high"
    assert ring["tag"].startswith("order-shop-") and ring["topic"] == ring["tag"]

    due = (await reminder(app)).next_due_at
    assert await tick(app, due) == 1
    again = (await pushes(app, vendor))[-1]
    assert (again["urgency"], again["tag"], again["renotify"]) == ("high", ring["tag"], True)
    assert again["data"]["event"] == "order.reminder"

    accepted = await send(client, key, answer(vendor, "order.accepted", "evt_2"))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["notification_id"] == created.json()["notification_id"]
    replaced = (await pushes(app, vendor))[-1]
    assert (replaced["urgency"], replaced["tag"], replaced["topic"]) == (
        "normal",
        ring["tag"],
        ring["tag"],
    )
    assert (replaced["title"], replaced["renotify"]) == ("Order #A-1001 accepted", False)

    # Answered: no reminder rings, and no "unanswered" email goes, however long it waits.
    assert await tick(app, due + timedelta(hours=1)) == 0
    assert len(await pushes(app, vendor)) == 3
    assert await email_reasons(app, vendor) == []
    [item] = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    assert item["data"]["status"] == "accepted"


async def test_an_answer_reported_twice_is_one_answer(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    await add_device(app, vendor.id)
    key = await issue_key(app)
    assert (await send(client, key, event(vendor))).status_code == 201
    rejected = answer(vendor, "order.rejected", "evt_2")
    assert (await send(client, key, rejected)).status_code == 201
    before = await pushes(app, vendor)

    assert (await send(client, key, rejected)).json()["status"] == "duplicate"
    # The same answer under a new event id changes nothing either.
    assert (await send(client, key, {**rejected, "id": "evt_3"})).status_code == 201
    assert await pushes(app, vendor) == before
    assert [p["title"] for p in before][-1] == "Order #A-1001 rejected"


async def test_a_shop_order_emails_a_vendor_without_a_device_and_again_when_unanswered(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    await set_alerts(client, vendor, 60, 1)
    key = await issue_key(app)
    assert (await send(client, key, event(vendor))).status_code == 201
    assert await email_reasons(app, vendor) == ["no_device"]
    async with app.state.units.reader() as uow:
        mail = await uow.session.scalar(select(OutgoingEmail))
    assert mail is not None and "A-1001" in mail.subject and "€12.50" in mail.subject

    due = (await reminder(app)).next_due_at
    await tick(app, due)  # the one reminder round (no device: nothing rings)
    await tick(app, due + timedelta(seconds=60))
    await tick(app, due + timedelta(seconds=120))
    assert await email_reasons(app, vendor) == ["no_device", "unanswered"]


async def test_a_cancellation_by_the_shop_stops_reminders_and_shows_in_the_order_s_place(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    await add_device(app, vendor.id)
    key = await issue_key(app)
    assert (await send(client, key, event(vendor))).status_code == 201
    [ring] = await pushes(app, vendor)

    cancelled = await send(client, key, answer(vendor, "order.cancelled", "evt_2"))
    assert cancelled.status_code == 201, cancelled.text
    told = (await pushes(app, vendor))[-1]
    assert (told["tag"], told["urgency"], told["title"]) == (
        ring["tag"],
        "normal",
        "Order A-1001 cancelled",
    )
    assert (await reminder(app)).status == "done"
    # Cancelled again: told once.
    assert (await send(client, key, answer(vendor, "order.cancelled", "evt_3"))).is_success
    assert len(await pushes(app, vendor)) == 2


async def test_unknown_data_fields_are_named_in_the_answer_and_ignored(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    body = event(vendor, colour="red", lines=[1])
    first = await send(client, key, body)
    assert first.status_code == 201, first.text
    assert first.json()["ignored_fields"] == ["data.colour", "data.lines"]
    again = await send(client, key, body)
    assert (again.json()["status"], again.json()["ignored_fields"]) == (
        "duplicate",
        ["data.colour", "data.lines"],
    )
    plain = await send(client, key, event(vendor, "evt_2"))
    assert plain.json()["ignored_fields"] == []


async def test_an_answer_must_name_an_order_the_shop_sent(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    unknown = await send(client, key, answer(vendor, "order.accepted", "evt_1"))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_order")
    nameless = answer(vendor, "order.accepted", "evt_2", order_ref=None)
    refused = await send(client, key, nameless)
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_event")


async def test_a_shop_order_and_its_acceptance_reach_a_device_in_one_place_end_to_end(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    vendor, key = await vendor_with_a_device(
        worker_app, worker_client, worker_accounts, push_service
    )
    assert (await send(worker_client, key, event(vendor))).status_code == 201
    [ring] = await push_service.wait_for(1, timeout=15)
    accepted = answer(vendor, "order.accepted", "evt_2")
    assert (await send(worker_client, key, accepted)).status_code == 201
    [_, replaced] = await push_service.wait_for(2, timeout=15)

    assert (ring.headers["Urgency"], replaced.headers["Urgency"]) == ("high", "normal")
    assert replaced.headers["Topic"] == ring.headers["Topic"]
    tags = [m.json["notification"]["tag"] for m in (ring, replaced)]
    assert tags == [ring.headers["Topic"]] * 2 and tags[0].startswith("order-shop-")
    assert replaced.json["notification"]["title"] == "Order #A-1001 accepted"
