"""The notifications page: type and read filters, pagination, mark read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from server.notifications.service import system_notice
from tests.browser.conftest import LiveServer, Session, screenshot

pytestmark = pytest.mark.browser


def test_filters_and_pages_through_the_inbox(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    for _ in range(3):
        live_server.place_order(customer, vendor)

    async def notices(app: Any) -> None:
        async with app.state.units.writer() as uow:
            for n in range(22):
                await system_notice(uow, int(vendor.id), title=f"Notice {n}", body="Scheduled")
            await uow.commit()

    live_server.run(notices)
    page = sessions(vendor).page("/notifications")
    titles = page.get_by_test_id("notification-list").locator(".note-title")
    expect(titles).to_have_count(20)
    expect(titles.first).to_have_text("Notice 21")  # newest first
    screenshot(page, "notifications")
    page.get_by_role("button", name="Load more").click()
    expect(titles).to_have_count(25)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    page.get_by_role("link", name="Orders", exact=True).last.click()
    expect(page).to_have_url(f"{live_server.origin}/notifications?type=order")
    expect(titles).to_have_text(["New order #3", "New order #2", "New order #1"])

    page.get_by_role("link", name="Unread", exact=True).click()
    expect(titles).to_have_count(3)
    titles.first.click()  # opens order #3 and marks it read
    expect(page).to_have_url(f"{live_server.origin}/orders/3")
    page.go_back()
    expect(titles).to_have_text(["New order #2", "New order #1"])
    page.get_by_role("link", name="Read", exact=True).click()
    expect(titles).to_have_text(["New order #3"])

    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_test_id("bell-badge")).to_be_hidden()
    page.get_by_role("link", name="Unread", exact=True).click()
    expect(page.get_by_test_id("notification-list")).to_have_text("All caught up.")
