"""The vendor's open dashboard reacts to a customer's order within 2 s, without reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, screenshot

pytestmark = pytest.mark.browser
LIVE = 2_000  # ms: how fast a new order must show up on the open dashboard


def test_customer_order_rings_the_open_dashboard_and_read_state_syncs_across_tabs(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    vendor_session = sessions(vendor)
    tab_a = vendor_session.page("/")
    tab_b = vendor_session.page("/notifications")
    for tab in (tab_a, tab_b):
        expect(tab.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")
        expect(tab.get_by_test_id("bell-badge")).to_be_hidden()

    shopper = sessions(customer).page("/checkout")
    expect(
        shopper.get_by_test_id("vendor-select").locator("option", has_text="Corner Bakery")
    ).to_be_attached()
    shopper.get_by_test_id("vendor-select").select_option(label="Corner Bakery")
    shopper.get_by_role("button", name="Croissant").click()
    shopper.locator("textarea[name=note]").fill("Extra crispy, please")
    expect(shopper.get_by_test_id("checkout-total")).to_have_text("€5.70")
    screenshot(shopper, "checkout")
    shopper.get_by_test_id("place-order").click()
    expect(shopper).to_have_url(f"{live_server.origin}/orders/1")
    expect(shopper.get_by_test_id("status")).to_have_text("New")

    # The vendor did nothing: the badge, the open-orders list and the dropdown update live.
    expect(tab_a.get_by_test_id("bell-badge")).to_have_text("1", timeout=LIVE)
    expect(tab_b.get_by_test_id("bell-badge")).to_have_text("1", timeout=LIVE)
    expect(tab_a.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")
    assert tab_a.title() == "(1) vendorbell"
    screenshot(tab_a, "dashboard")

    tab_a.get_by_test_id("bell").click()
    item = tab_a.get_by_test_id("dropdown-list").locator("li.note").first
    expect(item).to_contain_text("New order #1")
    expect(item).to_contain_text("Ada Lovelace")
    expect(item).to_have_class("note unread compact")
    screenshot(tab_a, "dropdown")

    item.click()
    expect(tab_a).to_have_url(f"{live_server.origin}/orders/1")
    expect(tab_a.get_by_test_id("order-title")).to_have_text("Order #1")
    expect(tab_a.get_by_test_id("bell-badge")).to_be_hidden()
    # Read in tab A: tab B hears it over its own WebSocket.
    expect(tab_b.get_by_test_id("bell-badge")).to_be_hidden(timeout=LIVE)
    assert live_server.notifications(vendor)[0]["read_at"] is not None

    # The vendor accepts: the customer's open order page follows without reload.
    tab_a.locator("[data-action=accepted]").click()
    expect(tab_a.get_by_test_id("status")).to_have_text("Accepted")
    expect(shopper.get_by_test_id("status")).to_have_text("Accepted", timeout=LIVE)
    assert not vendor_session.errors, vendor_session.errors


@pytest.mark.parametrize(
    "role, path",
    [
        ("vendor", "/"),
        ("vendor", "/orders/1"),
        ("vendor", "/notifications"),
        ("vendor", "/devices"),
        ("customer", "/checkout"),
        ("customer", "/orders"),
    ],
)
def test_every_page_fits_a_phone_screen(
    live_server: LiveServer, sessions: Callable[..., Session], role: str, path: str
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    live_server.place_order(customer, vendor, note="Please ring twice")
    user = vendor if role == "vendor" else customer
    page = sessions(user, viewport={"width": 390, "height": 844}, is_mobile=True).page(path)
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")
    expect(page.locator("main h1")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if path == "/":
        expect(page.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")
        expect(page.get_by_test_id("stat-pending")).to_contain_text("1")
    if path == "/checkout":
        options = page.get_by_test_id("vendor-select").locator("option")
        expect(options.filter(has_text="Corner Bakery")).to_be_attached()
    if path in ("/", "/checkout"):
        screenshot(page, f"{role}-mobile")


def test_sound_toggle_is_off_by_default_and_remembered(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    page = sessions(live_server.register("vendor")).page("/")
    toggle = page.get_by_test_id("sound-toggle")
    expect(toggle).not_to_be_checked()
    page.locator("label.toggle").click()
    expect(toggle).to_be_checked()
    page.reload()
    expect(page.get_by_test_id("sound-toggle")).to_be_checked()
    assert page.evaluate("localStorage.getItem('vb.sound')") == "on"


def test_mark_all_read_in_the_dropdown_clears_every_tab(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    live_server.place_order(customer, vendor)
    live_server.place_order(customer, vendor)
    session = sessions(vendor)
    tab_a, tab_b = session.page("/"), session.page("/orders")
    expect(tab_b.get_by_test_id("bell-badge")).to_have_text("2")
    expect(tab_b.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")

    tab_a.get_by_test_id("bell").click()
    items = tab_a.get_by_test_id("dropdown-list").locator("li.note")
    expect(items).to_have_count(2)
    tab_a.get_by_test_id("dropdown").get_by_role("button", name="Mark all read").click()
    expect(tab_a.get_by_test_id("bell-badge")).to_be_hidden()
    expect(tab_a.get_by_test_id("dropdown-list").locator("li.note.unread")).to_have_count(0)
    expect(tab_b.get_by_test_id("bell-badge")).to_be_hidden(timeout=LIVE)
    assert all(n["read_at"] for n in live_server.notifications(vendor))
