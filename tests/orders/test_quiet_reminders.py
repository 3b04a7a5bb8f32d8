"""Reminders held in quiet hours fold into the digest that ends them: none rings beside
it, and the next one comes a spacing after it.

The reminder loop (`send_due`) and the digest (`release_held`) are called with the time
each test wants, on SQLite and PostgreSQL (`database_url`); the pushes are the outbox
rows the workers would send.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from server.core.db import utcnow
from server.notifications.preferences.digest import release_held
from tests.conftest import Accounts, place_order
from tests.orders.test_reminders import pushes, reminder_row, set_alerts, shop, tick

EVERY = 120


def quiet(start: datetime, end: datetime) -> dict[str, Any]:
    """Quiet hours (UTC) that hold new orders."""
    return {
        "enabled": True,
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "time_zone": "UTC",
        "orders_ring": False,
    }


async def digest(app: Any, at: datetime) -> int:
    async with app.state.units.writer() as uow:
        released = await release_held(uow, at)
        await uow.commit()
    return released


async def test_reminders_held_in_quiet_hours_do_not_ring_beside_the_digest_of_their_orders(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    now = utcnow()
    await set_alerts(
        client, vendor, EVERY, 3, **quiet(now - timedelta(hours=1), now + timedelta(hours=3))
    )
    orders = [await place_order(client, customer, vendor) for _ in range(3)]
    for minutes in (2, 4, 6, 60):  # quiet: held
        assert await tick(app, now + timedelta(minutes=minutes, seconds=5)) == 0

    over = now + timedelta(hours=3, minutes=30)  # quiet hours over, the digest not yet out
    assert await tick(app, over) == 0
    released = over + timedelta(seconds=20)  # the digest loop's next turn
    assert await digest(app, released) == 1
    assert await tick(app, released + timedelta(seconds=1)) == 0

    [sent] = await pushes(app, vendor)
    assert sent["data"]["event"] == "order.digest"
    assert sent["title"] == "3 new orders while you were away"
    for order in orders:
        row = await reminder_row(app, order["id"])
        assert (row.sent, row.next_due_at) == (0, released + timedelta(seconds=EVERY))


async def test_after_the_digest_reminders_ring_one_spacing_later(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    now = utcnow()
    await set_alerts(
        client, vendor, EVERY, 3, **quiet(now - timedelta(hours=1), now + timedelta(hours=3))
    )
    order = await place_order(client, customer, vendor)
    await tick(app, now + timedelta(minutes=2, seconds=5))
    released = now + timedelta(hours=3, minutes=30)
    assert await digest(app, released) == 1

    assert await tick(app, released + timedelta(seconds=EVERY - 1)) == 0
    assert await tick(app, released + timedelta(seconds=EVERY)) == 1
    assert await tick(app, released + timedelta(seconds=EVERY + 5)) == 0  # no burst
    created, reminder = await pushes(app, vendor)
    assert created["data"]["event"] == "order.created"  # one held order: itself
    assert reminder["data"]["event"] == "order.reminder"
    assert reminder["title"].startswith(f"Still waiting: order #{order['id']} · ")
    assert (await reminder_row(app, order["id"])).sent == 1


async def test_an_order_from_before_quiet_hours_joins_their_digest_instead_of_reminding(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await shop(app, accounts)
    now = utcnow()
    start, end = now + timedelta(hours=1), now + timedelta(hours=4)
    await set_alerts(client, vendor, EVERY, 3, **quiet(start, end))
    early = await place_order(client, customer, vendor)  # rings: not quiet yet
    first = (await reminder_row(app, early["id"])).next_due_at
    assert await tick(app, first) == 1  # a reminder, before the quiet hours

    assert await tick(app, start + timedelta(minutes=1)) == 0  # quiet: held
    released = end + timedelta(seconds=20)
    assert await tick(app, end + timedelta(seconds=1)) == 0  # the digest is due
    assert await digest(app, released) == 1

    sent = await pushes(app, vendor)
    assert [p["data"]["event"] for p in sent] == [
        "order.created",
        "order.reminder",
        "order.created",  # the digest of one order is that order again
    ]
    assert sent[2]["title"] == sent[0]["title"]
    row = await reminder_row(app, early["id"])
    assert (row.sent, row.next_due_at) == (1, released + timedelta(seconds=EVERY))
