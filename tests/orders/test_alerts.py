"""The vendor's order page says how the order rang them; the customer's says nothing of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from server.core.db import utcnow
from server.mail.models import OutgoingEmail
from server.orders.alerts.models import OrderReminder
from server.push.models import PushDelivery
from tests.conftest import Accounts, place_order
from tests.orders.test_reminders import reminder_row, set_alerts, tick
from tests.preferences.factories import add_device


async def mark(app: Any, model: Any, *where: Any, **values: Any) -> None:
    async with app.state.db.writer() as session:
        await session.execute(update(model).where(*where).values(**values))
        await session.commit()


async def test_the_vendor_sees_devices_reminders_and_the_answer_time(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    first = await add_device(app, vendor.id)
    await add_device(app, vendor.id)
    await set_alerts(client, vendor, 60, 3)
    order = await place_order(client, customer, vendor)
    due = (await reminder_row(app, order["id"])).next_due_at
    await tick(app, due)
    await tick(app, due + timedelta(seconds=60))
    # One device's pushes arrive, the other's are still queued.
    await mark(app, PushDelivery, PushDelivery.subscription_id == int(first), status="delivered")
    url = f"/api/orders/{order['id']}"

    seen = (await client.get(url, headers=vendor.headers)).json()["alerts"]
    assert seen == {
        "devices_rung": 2,
        "devices_reached": 1,
        "reminders_sent": 2,
        "emails": [],
        "answered_at": None,
    }
    before = utcnow()
    accepted = (await client.post(f"{url}/accept", headers=vendor.headers)).json()
    # The answer is on every lock screen too, yet it rang nothing: still two devices.
    assert {k: accepted["alerts"][k] for k in ("devices_rung", "reminders_sent")} == {
        "devices_rung": 2,
        "reminders_sent": 2,
    }
    assert accepted["alerts"]["answered_at"] >= before.isoformat()[:19]
    assert (await client.get(url, headers=customer.headers)).json()["alerts"] is None


async def test_a_vendor_without_devices_sees_the_email_and_when_it_went(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    order = await place_order(client, customer, vendor)
    sent_at = utcnow().replace(microsecond=0)
    await mark(
        app,
        OutgoingEmail,
        OutgoingEmail.order_id == int(order["id"]),
        status="sent",
        sent_at=sent_at,
    )
    # Two reminder rounds passed with no device to ring: not "reminded twice".
    await mark(app, OrderReminder, OrderReminder.order_id == int(order["id"]), sent=2)

    alerts = (await client.get(f"/api/orders/{order['id']}", headers=vendor.headers)).json()[
        "alerts"
    ]
    assert (alerts["devices_rung"], alerts["reminders_sent"]) == (0, 0)
    [email] = alerts["emails"]
    assert (email["reason"], email["status"]) == ("no_device", "sent")
    assert email["sent_at"].startswith(sent_at.isoformat()[:19])


async def test_order_lists_and_the_customers_answers_carry_no_alerts(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    order = await place_order(client, customer, vendor)
    assert order["alerts"] is None  # the customer placed it
    [listed] = (await client.get("/api/orders", headers=vendor.headers)).json()
    assert listed["alerts"] is None
    cancelled = await client.post(
        f"/api/orders/{order['id']}/status", json={"status": "cancelled"}, headers=customer.headers
    )
    assert cancelled.json()["alerts"] is None
