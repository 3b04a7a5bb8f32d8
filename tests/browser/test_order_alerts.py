"""The lock screen follows the order: in the service worker, a reminder and the answer
replace the order's notification (one per order, never one more), and only the reminder
alerts again. The payloads are the outbox rows the server wrote for a vendor's device."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.orders.alerts.models import OrderReminder
from server.orders.alerts.reminders import send_due
from server.push.models import PushDelivery, PushSubscription
from tests.browser.conftest import (
    LiveServer,
    Session,
    User,
    deliver_push,
    screenshot,
    service_worker,
    wait_for_service_worker,
)

pytestmark = pytest.mark.browser

# Observation hook, not a stand-in: headless Chromium plays no sound, so the test records
# the options the worker shows each notification with (the real call still runs).
RECORD_SHOWN = """() => {
  const real = ServiceWorkerRegistration.prototype.showNotification;
  self.__shown = [];
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    self.__shown.push({ title, tag: options.tag, renotify: !!options.renotify,
                        requireInteraction: !!options.requireInteraction });
    return real.call(this, title, options);
  };
}"""

SHOWN = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((n) => ({
    title: n.title, tag: n.tag, event: (n.data || {}).event,
    renotify: n.renotify, requireInteraction: n.requireInteraction,
  }));
}"""


def add_device(server: LiveServer, user: User) -> int:
    """A subscription row, so the server writes this vendor's pushes (none is sent: no
    worker runs here; the test hands the payloads to the browser itself)."""

    async def add(app: Any) -> int:
        async with app.state.db.writer() as session:
            device = PushSubscription(
                user_id=int(user.id),
                endpoint=f"http://127.0.0.1:9/push/{user.id}",
                p256dh="BPx",
                auth="auth",
                vapid_key_id="test",
            )
            session.add(device)
            await session.commit()
            return device.id

    return server.run(add)


def ring_reminder(server: LiveServer, order_id: str) -> None:
    """The reminder loop's step, at the order's first reminder time (orders placed after
    it are not due yet)."""

    async def tick(app: Any) -> None:
        async with app.state.units.writer() as uow:
            due = await uow.session.scalar(
                select(OrderReminder.next_due_at).where(OrderReminder.order_id == int(order_id))
            )
            assert due is not None
            await send_due(uow, due)
            await uow.commit()

    server.run(tick)


def payloads(server: LiveServer, device: int) -> list[str]:
    """What the server queued for `device`, oldest first."""

    async def read(app: Any) -> list[str]:
        async with app.state.db.reader() as session:
            rows = await session.scalars(
                select(PushDelivery.payload)
                .where(PushDelivery.subscription_id == device)
                .order_by(PushDelivery.id)
            )
            return list(rows)

    return server.run(read)


def shown(page: Any, count: int) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for _ in range(100):
        notes = page.evaluate(SHOWN)
        if len(notes) == count:
            break
        page.wait_for_timeout(50)
    return sorted(notes, key=lambda n: str(n["tag"]))


def deliver(page: Any, payload: str, expect: str) -> None:
    """Deliver one push and wait until a notification titled `expect` is shown."""
    deliver_push(page, payload)
    for _ in range(100):
        if any(n["title"] == expect for n in page.evaluate(SHOWN)):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{expect!r} never shown: {page.evaluate(SHOWN)}")


def test_reminders_and_the_answer_replace_the_orders_notification_and_only_reminders_alert(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    device = add_device(live_server, vendor)
    session = sessions(vendor)
    session.context.grant_permissions(["notifications"], origin=live_server.origin)
    page = session.page("/")
    wait_for_service_worker(page)
    service_worker(page.context).evaluate(RECORD_SHOWN)

    first = live_server.place_order(customer, vendor)["id"]
    second = live_server.place_order(customer, vendor)["id"]
    ring_reminder(live_server, first)
    with live_server.client() as client:
        answer = client.post(f"/api/orders/{first}/accept", headers=vendor.headers)
    assert answer.status_code == 200, answer.text
    created_1, created_2, reminder, accepted = payloads(live_server, device)
    assert json.loads(reminder)["notification"]["data"]["event"] == "order.reminder"

    deliver(page, created_1, f"New order #{first}")
    deliver(page, created_2, f"New order #{second}")
    deliver(page, reminder, f"Still waiting: order #{first} · 2 min")
    one, two = shown(page, 2)  # the reminder took the first order's place
    assert (one["tag"], one["event"]) == (f"order-{first}", "order.reminder")
    assert one["requireInteraction"] is True
    assert (two["tag"], two["event"]) == (f"order-{second}", "order.created")

    deliver(page, accepted, f"Order #{first} accepted")
    one, two = shown(page, 2)
    assert (one["title"], one["event"]) == (f"Order #{first} accepted", "order.accepted")
    assert one["requireInteraction"] is False
    assert two["title"] == f"New order #{second}"

    # A reminder written just before the answer but arriving after it changes nothing.
    deliver_push(page, reminder)
    page.wait_for_timeout(500)
    one, _ = shown(page, 2)
    assert one["title"] == f"Order #{first} accepted"

    calls = service_worker(page.context).evaluate("self.__shown")
    assert [(c["title"].split(" · ")[0], c["renotify"]) for c in calls] == [
        (f"New order #{first}", False),
        (f"New order #{second}", False),
        (f"Still waiting: order #{first}", True),  # the one that alerts again
        (f"Order #{first} accepted", False),
        (f"Order #{first} accepted", False),  # the late reminder, shown as the answer
    ]


def test_settings_say_how_a_waiting_order_rings_again_and_the_server_checks_the_numbers(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    page = sessions(vendor, viewport={"width": 1024, "height": 1400}).page("/preferences")
    every, repeats = page.get_by_test_id("alerts-every"), page.get_by_test_id("alerts-repeats")
    expect(every).to_have_value("120")  # the defaults: every 2 minutes, 3 times
    expect(repeats).to_have_value("3")

    every.select_option(label="Every 5 minutes")
    repeats.fill("5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".toast")).to_contain_text("Settings saved.")
    screenshot(page, "order-alerts-settings")
    with live_server.client() as client:
        saved = client.get("/api/preferences", headers=vendor.headers).json()
    assert saved["order_alerts"] == {"repeat_every_seconds": 300, "max_repeats": 5}

    page.get_by_test_id("alerts-repeats").fill("11")
    page.get_by_role("button", name="Save settings").click()
    error = page.get_by_test_id("preferences-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("10")
    with live_server.client() as client:
        kept = client.get("/api/preferences", headers=vendor.headers).json()
    assert kept["order_alerts"] == {"repeat_every_seconds": 300, "max_repeats": 5}
