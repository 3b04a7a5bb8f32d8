"""User-supplied text is shown as text everywhere: the dropdown, the inbox, the order page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from server.notifications.service import system_notice
from tests.browser.conftest import LiveServer, Session

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"


def test_markup_in_titles_names_and_notes_renders_as_text(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer", name=XSS)
    session = sessions(vendor)
    page = session.page("/")
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")

    async def notice(app: Any) -> None:
        async with app.state.units.writer() as uow:
            await system_notice(uow, int(vendor.id), title=f"Hello {XSS}", body=XSS)
            await uow.commit()  # publishes to the open tab, as a route would

    live_server.run(notice)
    live_server.place_order(customer, vendor, note=XSS)
    expect(page.get_by_test_id("bell-badge")).to_have_text("2")

    page.get_by_test_id("bell").click()
    titles = page.get_by_test_id("dropdown-list").locator(".note-title")
    expect(titles).to_have_text(["New order #1", f"Hello {XSS}"])
    expect(page.get_by_test_id("dropdown-list").locator(".note-body").first).to_contain_text(
        f"from {XSS} — “{XSS}”"
    )
    page.goto("/notifications")
    expect(page.get_by_test_id("notification-list").locator(".note-title")).to_have_count(2)
    page.goto("/orders/1")
    expect(page.locator("main")).to_contain_text(f"From {XSS}")
    expect(page.locator("main")).to_contain_text(f"Note: {XSS}")

    assert page.locator("img[src=x]").count() == 0
    assert session.dialogs == []
    assert not session.errors, session.errors
