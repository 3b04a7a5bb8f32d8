"""The vendor's order page says in one line how the order reached them, and follows it
live; the customer's page says nothing of the vendor's devices or emails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from server.mail.models import OutgoingEmail
from tests.browser.conftest import LiveServer, Session, User, screenshot
from tests.browser.test_order_alerts import add_device, ring_reminder

pytestmark = pytest.mark.browser
LIVE = 2_000
# The browser's zone and language: the email's time reads 14:05 there.
LOCAL = {"timezone_id": "UTC", "locale": "en-GB"}


def email_sent_at_1405(
    server: LiveServer, order: dict[str, Any], reason: str, at: time = time(14, 5)
) -> None:
    """The order's email for `reason`, sent at 14:05 UTC (or `at`) on the order's day
    (as the mail loop marks it)."""
    day = datetime.fromisoformat(order["created_at"]).date()
    sent_at = datetime.combine(day, at, UTC)

    async def send(app: Any) -> None:
        async with app.state.db.writer() as session:
            values = {
                "user_id": int(order["vendor"]["id"]),
                "order_id": int(order["id"]),
                "reason": reason,
                "recipient": "vendor@example.com",
                "subject": "s",
                "text_body": "t",
                "html_body": "h",
                "message_id": f"<{order['id']}.{reason}@example.com>",
            }
            changed = await session.execute(
                update(OutgoingEmail)
                .where(OutgoingEmail.order_id == int(order["id"]), OutgoingEmail.reason == reason)
                .values(status="sent", sent_at=sent_at)
            )
            if not changed.rowcount:  # type: ignore[attr-defined]
                session.add(OutgoingEmail(**values, status="sent", attempts=1, sent_at=sent_at))
            await session.commit()

    server.run(send)


def message(server: LiveServer, customer: User, order_id: str, body: str) -> None:
    with server.client() as client:
        r = client.post(
            f"/api/orders/{order_id}/messages", json={"body": body}, headers=customer.headers
        )
    assert r.status_code == 201, r.text


def test_the_vendor_sees_how_the_order_rang_and_the_line_follows_it_live(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    add_device(live_server, vendor)
    order = live_server.place_order(customer, vendor)
    shop = sessions(vendor, **LOCAL).page(f"/orders/{order['id']}")
    line = shop.get_by_test_id("order-alerts")
    expect(line).to_have_text("Rang on 1 device")

    ring_reminder(live_server, order["id"])
    ring_reminder(live_server, order["id"])
    email_sent_at_1405(live_server, order, "unanswered")
    # The customer's message is a live event about this order: the page reloads it.
    message(live_server, customer, order["id"], "Are you open?")
    rang = "Rang on 1 device · reminded 2\u00d7 · emailed at 14:05"  # 2 (times)
    expect(line).to_have_text(rang, timeout=LIVE)
    screenshot(shop, "order-alerts-line")

    buyer = sessions(customer, **LOCAL).page(f"/orders/{order['id']}")
    expect(buyer.get_by_test_id("order-title")).to_be_visible()
    expect(buyer.get_by_test_id("order-alerts")).to_have_count(0)


def test_a_vendor_without_devices_reads_that_none_rang_and_when_the_email_went(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    order = live_server.place_order(customer, vendor)
    shop = sessions(vendor, **LOCAL).page(f"/orders/{order['id']}")
    expect(shop.get_by_test_id("order-alerts")).to_have_text("No device rang — email on its way")

    email_sent_at_1405(live_server, order, "no_device")
    shop.reload()
    expect(shop.get_by_test_id("order-alerts")).to_have_text("No device rang — emailed at 14:05")
    # Still unanswered: the second email is said too, not only the first.
    email_sent_at_1405(live_server, order, "unanswered", at=time(14, 20))
    shop.reload()
    expect(shop.get_by_test_id("order-alerts")).to_have_text(
        "No device rang — emailed at 14:05 and 14:20"
    )
