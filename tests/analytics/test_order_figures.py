"""The summary's order figures: how a vendor's orders in the range were answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from server.mail.models import OutgoingEmail
from server.orders.alerts.models import OrderReminder
from server.orders.models import Order
from tests.conftest import Account, Accounts, place_order
from tests.preferences.factories import add_device

T = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
RANGE = "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z"


async def order(
    app: Any,
    client: httpx.AsyncClient,
    vendor: Account,
    customer: Account,
    moves: list[tuple[Account, str]],
    *,
    created: datetime,
    accepted_after: float | None = None,
    reminders: int = 0,
    emails: tuple[str, ...] = (),
) -> None:
    """An order moved through `moves` over the API, then dated and counted as wanted."""
    placed = await place_order(client, customer, vendor)
    order_id = int(placed["id"])
    for who, status in moves:
        path = {"accepted": "accept", "rejected": "reject"}.get(status, "status")
        body = {"status": status} if path == "status" else None
        url = f"/api/orders/{order_id}/{path}"
        answer = await client.post(url, json=body, headers=who.headers)
        assert answer.status_code == 200, answer.text
    accepted = None if accepted_after is None else created + timedelta(seconds=accepted_after)
    async with app.state.db.writer() as session:
        times: dict[str, Any] = {"created_at": created}
        if accepted is not None:
            times |= {"accepted_at": accepted, "answered_at": accepted}
        await session.execute(update(Order).where(Order.id == order_id).values(**times))
        await session.execute(
            update(OrderReminder).where(OrderReminder.order_id == order_id).values(sent=reminders)
        )
        for n, status in enumerate(emails):
            session.add(
                OutgoingEmail(
                    user_id=int(vendor.id),
                    order_id=order_id,
                    reason=("unanswered", "push_failed", "no_device")[n],
                    recipient="vendor@example.com",
                    subject="s",
                    text_body="t",
                    html_body="h",
                    message_id=f"<{order_id}.{n}@example.com>",
                    status=status,
                    attempts=1,
                    sent_at=created + timedelta(minutes=5) if status == "sent" else None,
                )
            )
        await session.commit()


async def test_order_figures_count_the_vendors_orders_in_the_range_exactly(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, other, customer = (
        await accounts.vendor(),
        await accounts.vendor(),
        await accounts.customer(),
    )
    await add_device(app, vendor.id)  # so no order is emailed for want of a device
    hour = timedelta(hours=1)
    accept, cancel = (vendor, "accepted"), (vendor, "cancelled")
    await order(app, client, vendor, customer, [accept], created=T, accepted_after=60, reminders=1)
    # Accepted, then cancelled by the vendor: accepted all the same.
    await order(
        app, client, vendor, customer, [accept, cancel], created=T + hour, accepted_after=180
    )
    await order(
        app,
        client,
        vendor,
        customer,
        [accept, (vendor, "preparing")],
        created=T + 2 * hour,
        accepted_after=30.5,
        emails=("failed",),
    )
    # Not accepted: still pending (reminded, emailed: waiting, not "never"), rejected,
    # cancelled while pending (never accepted).
    await order(
        app,
        client,
        vendor,
        customer,
        [],
        created=T + 3 * hour,
        reminders=3,
        emails=("sent", "queued"),
    )
    await order(app, client, vendor, customer, [(vendor, "rejected")], created=T + 4 * hour)
    await order(app, client, vendor, customer, [(customer, "cancelled")], created=T + 5 * hour)
    # Not counted: a day later, and another vendor's.
    later = T + timedelta(days=1)
    await order(
        app, client, vendor, customer, [accept], created=later, accepted_after=1, reminders=2
    )
    await order(app, client, other, customer, [(other, "accepted")], created=T, accepted_after=1)

    summary = (await client.get(f"/api/analytics/summary?{RANGE}", headers=vendor.headers)).json()
    figures = {k: v for k, v in summary.items() if k.startswith(("orders_", "median_seconds_to_a"))}
    assert figures == {
        "orders_received": 6,
        "orders_accepted": 3,
        "median_seconds_to_accept": 60.0,  # of 30.5, 60 and 180
        "orders_reminded": 2,
        "orders_emailed": 1,
        "orders_never_accepted": 2,
        "orders_waiting": 1,
    }
    two_hours = "from=2026-11-01T10:00:00Z&to=2026-11-01T12:00:00Z"
    first_two = await client.get(f"/api/analytics/summary?{two_hours}", headers=vendor.headers)
    assert first_two.json()["median_seconds_to_accept"] == 120.0  # the mean of 60 and 180


async def test_a_customer_and_an_empty_range_have_no_order_figures(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    summary = (await client.get(f"/api/analytics/summary?{RANGE}", headers=customer.headers)).json()
    assert (summary["orders_received"], summary["median_seconds_to_accept"]) == (0, None)
