"""The console's Activity in the browser: an admin at phone width searches a vendor and
reads why one device never got the order (its subscription answered 410 and was pruned),
on a page without serious accessibility faults in light and dark;
a vendor is shown no console link, and the page and its API refuse them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from server.admin.cli import create_admin
from server.push.models import PushDelivery, PushSubscription
from server.push.outcomes import record_outcomes
from server.push.sender import Job, Outcome
from tests.browser.conftest import LiveServer, Session, User, screenshot
from tests.browser.test_accessibility import severe_violations
from tests.pushservice import make_browser_subscription

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ADMIN_PASSWORD = "correct horse battery"


def subscribe(server: LiveServer, vendor: User, label: str) -> None:
    device = make_browser_subscription(f"http://127.0.0.1:9/push/{label.lower()}")
    with server.client() as client:
        response = client.post(
            "/api/push/subscriptions", json=device.to_json(label=label), headers=vendor.headers
        )
    assert response.status_code == 201, response.text


def push_service_answers(server: LiveServer, answers: dict[str, Outcome]) -> None:
    """Record each device's answer to its queued push with the worker's own function
    (server.push.outcomes), as the worker does after the push service answers."""

    async def record(app: Any) -> None:
        async with app.state.units.writer() as uow:
            rows = await uow.session.execute(
                select(PushDelivery, PushSubscription).join(
                    PushSubscription, PushSubscription.id == PushDelivery.subscription_id
                )
            )
            results = [
                (
                    Job(d.id, d.payload, d.urgency, d.topic, d.created_at, d.expires_at, 1,
                        s.id, s.endpoint, s.p256dh, s.auth, s.vapid_key_id, d.notification_id),
                    answers[s.label or ""],
                )
                for d, s in rows
            ]  # fmt: skip
            await record_outcomes(uow.session, results, uow.hooks)
            await uow.commit()

    server.run(record)


def make_admin(server: LiveServer) -> User:
    async def create(app: Any) -> str:
        return await create_admin(
            app.state.settings, email="root@example.com", name="Root", password=ADMIN_PASSWORD
        )

    assert server.run(create).startswith("created admin")
    return User("", "root@example.com", "Root", "")


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_an_admin_reads_why_a_device_missed_the_order_and_a_vendor_is_refused(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Alice")
    for label in ("iPhone", "Pixel"):
        subscribe(live_server, vendor, label)
    live_server.place_order(customer, vendor)
    push_service_answers(
        live_server,
        {
            "iPhone": Outcome("gone", 410, "subscription gone (410)"),
            "Pixel": Outcome("delivered", 201),
        },
    )
    admin = make_admin(live_server)

    session = sessions(admin, viewport=PHONE)
    page = session.page("/")
    page.get_by_role("link", name="Activity").click()
    expect(page).to_have_url(f"{live_server.origin}/console/activity")
    page.get_by_role("searchbox").fill(vendor.email)
    page.get_by_role("button", name="Search", exact=True).click()
    sentence = page.get_by_test_id("activity-sentence")
    expect(sentence).to_have_count(1)
    expect(sentence).to_contain_text("Delivered to 1 of 2 devices")
    expect(sentence).to_contain_text("(410) and was removed")
    item = page.get_by_test_id("activity-item")
    expect(item).to_contain_text("order.created")
    expect(item).to_contain_text("Push delivered to Pixel")
    expect(item).to_contain_text("its name was not kept")
    expect(page.get_by_test_id("activity-who")).to_contain_text("Corner Bakery")
    assert page_width(page) <= PHONE["width"], "the page is wider than the phone"
    screenshot(page, "console-activity-390")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert severe_violations(Axe(), page) == [], scheme
    assert session.errors == []

    # Failed only, from the URL the search wrote: the same notification (its push failed).
    page.get_by_role("switch").check()
    page.get_by_role("button", name="Search", exact=True).click()
    searched = vendor.email.replace("@", "%40")
    expect(page).to_have_url(f"{live_server.origin}/console/activity?q={searched}&failed_only=true")
    expect(page.get_by_test_id("activity-item")).to_have_count(1)

    # In German (the admin's language): the server's sentence and the page's words.
    changed = session.context.request.patch(
        "/api/me", data={"locale": "de"}, headers={"Origin": live_server.origin}
    )
    assert changed.ok, changed.text()
    page.goto(f"/console/activity?q={vendor.id}")
    expect(page.get_by_test_id("activity-sentence")).to_contain_text(
        "An 1 von 2 Geräten zugestellt"
    )
    expect(page.get_by_role("button", name="Suchen", exact=True)).to_be_visible()
    assert page_width(page) <= PHONE["width"], "the German page is wider than the phone"

    shop = sessions(vendor, viewport=PHONE)
    vendor_page = shop.page("/")
    expect(vendor_page.get_by_role("link", name="Orders")).to_be_visible()
    expect(vendor_page.locator('a[href^="/console"]')).to_have_count(0)
    vendor_page.goto("/console/activity")
    expect(vendor_page.get_by_test_id("console-refused")).to_be_visible()
    expect(vendor_page.get_by_test_id("activity-item")).to_have_count(0)
    refused = shop.context.request.get(f"/api/admin/activity?q={vendor.id}")
    assert refused.status == 403 and refused.json()["code"] == "admin_only"
