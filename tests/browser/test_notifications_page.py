"""The notifications page: type and read filters, pagination, mark read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from server.notifications.service import system_notice
from server.notifications.types import KINDS, Kind, declare
from server.push.payload import PUSH_TYPES
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


@pytest.fixture
def shipping() -> Iterator[Kind]:
    """A type declared on the server only: the PWA has no words for it."""
    kind = declare(Kind("shipping", 3600, "low", email=False, digest=lambda lang, n: str(n)))
    yield kind
    del KINDS[kind.name], PUSH_TYPES[kind.name]


def test_the_type_filters_are_the_types_the_server_declares(
    live_server: LiveServer, sessions: Callable[..., Session], shipping: Kind
) -> None:
    vendor = live_server.register("vendor")
    session = sessions(vendor)
    page = session.page("/notifications")
    chips = page.get_by_test_id("type-chips").get_by_role("link")
    labels = {"order": "Orders", "payment": "Payments", "message": "Messages", "system": "System"}
    # Every declared type, in the server's order; one without words yet shows its name.
    expect(chips).to_have_text(["All types", *(labels.get(name, name) for name in KINDS)])
    expect(chips.last).to_have_text("shipping")
    chips.last.click()
    expect(page).to_have_url(f"{live_server.origin}/notifications?type=shipping")
    expect(page.get_by_test_id("type-chips").locator(".chip.active")).to_have_text("shipping")
    assert session.errors == []
