"""The console's Health page: an admin sees a push service's bars, a stuck queue marked in
words, and the workers, on a phone in light and dark mode; a vendor gets no console link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import update

from server.admin.cli import create_admin
from server.core.db import utcnow
from server.ops.heartbeat import Heartbeat
from server.push.attempts import record_attempts
from server.push.models import PushDelivery
from server.push.sender import Outcome
from tests.browser.conftest import LiveServer, Session, User, screenshot
from tests.browser.test_accessibility import severe_violations
from tests.pushservice import make_browser_subscription

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def admin_user(server: LiveServer) -> User:
    email, password = "root@example.com", "correct horse battery"
    # On the server's loop: Playwright's sync API runs one in this thread.
    server.run(
        lambda app: create_admin(server.settings, email=email, name="Root", password=password)
    )
    return User("", email, "Root", "", password)


async def push_waiting_ten_minutes(app: Any) -> None:
    """The queued push (no worker runs here) due ten minutes ago, a live worker's
    heartbeat, and one push service's answers of the last hour."""
    now = utcnow()
    async with app.state.db.writer() as session:
        await session.execute(update(PushDelivery).values(due_at=now - timedelta(minutes=10)))
        answers = [(201, "delivered")] * 7 + [(429, "retry"), (503, "retry"), (None, "retry")]
        outcomes = [
            Outcome(kind, status, service="fcm.googleapis.com", seconds=0.08)
            for status, kind in answers
        ]
        await record_attempts(session, outcomes, now)  # as the delivery worker counts them
        await session.commit()
    await Heartbeat(app.state.db, "worker", ["delivery", "mail"], 10.0).beat()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_sees_a_stuck_queue_and_a_vendor_has_no_console(
    live_server: LiveServer, sessions: Callable[..., Session], scheme: str
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer")
    device = make_browser_subscription("http://127.0.0.1:9/push/device-1")
    with live_server.client() as client:
        answer = client.post(
            "/api/push/subscriptions", json=device.to_json(), headers=vendor.headers
        )
        assert answer.status_code in (200, 201), answer.text
    live_server.place_order(customer, vendor)  # the vendor's push, queued
    live_server.run(push_waiting_ten_minutes)

    admin = sessions(admin_user(live_server), viewport=PHONE, color_scheme=scheme)
    page = admin.page("/")
    page.get_by_role("navigation").get_by_role("link", name="Console").click()
    expect(page).to_have_url(f"{live_server.origin}/console/health")
    expect(page.get_by_role("heading", level=1)).to_have_text("Health")

    stuck = page.locator("tr[data-queue=push]")
    expect(stuck).to_have_attribute("data-stuck", "true")
    expect(stuck).to_contain_text("Stuck")  # in words, not only red
    expect(page.locator("tr[data-queue=email]")).to_contain_text("OK")
    expect(page.get_by_test_id("queues").get_by_role("alert")).to_contain_text("stuck")

    service = page.locator("li[data-service='fcm.googleapis.com']")
    expect(service.get_by_test_id("last-hour")).to_contain_text("70% delivered")
    expect(service.get_by_test_id("last-hour")).to_contain_text("429: 1, 5xx: 1, timeouts: 1")
    expect(service.locator("svg rect[data-part=delivered]").first).to_have_attribute(
        "data-value", "7"
    )
    expect(service.get_by_test_id("circuit")).to_have_text("Circuit closed")
    expect(page.get_by_test_id("workers")).to_contain_text("Alive")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Red is not the only sign, and the red still reads (axe: contrast, names, roles).
    assert severe_violations(Axe(), page) == []
    screenshot(page, f"console-health-phone-{scheme}")
    page.get_by_test_id("push-services").scroll_into_view_if_needed()
    screenshot(page, f"console-health-services-phone-{scheme}")
    assert admin.errors == []

    shop = sessions(vendor).page("/")
    expect(shop.get_by_role("navigation").get_by_role("link", name="Orders")).to_be_visible()
    expect(shop.get_by_role("navigation").get_by_role("link", name="Console")).to_have_count(0)
    shop.goto("/console/health")
    expect(shop.get_by_text("Only administrators can see the console.")).to_be_visible()
