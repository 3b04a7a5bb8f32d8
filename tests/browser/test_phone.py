"""The PWA at phone and desktop widths: the dropdown inside the viewport, no page wider
than the screen with long unbroken names, focus on each page's heading, Escape back to
the bell. One server and one browser for the module; each width is a fresh context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, User, screenshot, serve

pytestmark = pytest.mark.browser

WIDTHS = [360, 390, 414, 1280]
LONG_SHOP = "S" * 120  # the longest name an account may have, without a space
LONG_ITEM = "I" * 200  # the longest item name, without a space
LONG_CUSTOMER = "C" * 120


class World:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.vendor: User = server.register("vendor", LONG_SHOP)
        self.customer: User = server.register("customer", LONG_CUSTOMER)
        items = [{"name": LONG_ITEM, "quantity": 3, "unit_price_cents": 1234}]
        self.order: dict[str, Any] = server.place_order(
            self.customer, self.vendor, items=items, note="N" * 1000
        )
        # The newest, at the top of the dropdown's screenshot: ordinary names.
        alice = server.register("customer", "Alice Martin")
        server.place_order(alice, self.vendor)
        server.place_order(
            alice,
            self.vendor,
            items=[{"name": "Sourdough loaf", "quantity": 1, "unit_price_cents": 580}],
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("phone"), sqlite_template) as server:
        yield World(server)


def open_as(browser: Any, world: World, user: User, width: int, path: str) -> tuple[Session, Any]:
    session = Session(browser, world.server, user, viewport={"width": width, "height": 780})
    return session, session.page(path)


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


GO = (
    "(path) => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }"
)
LOADED = "() => !/Loading/.test(document.querySelector('main').textContent)"
WIDER = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5)
  .map((el) => `${el.tagName}.${el.className} ${el.getBoundingClientRect().right}`)"""


@pytest.mark.parametrize("width", WIDTHS)
def test_open_dropdown_lies_inside_the_viewport(browser: Any, world: World, width: int) -> None:
    session, page = open_as(browser, world, world.vendor, width, "/")
    try:
        page.get_by_test_id("bell").click()
        panel = page.get_by_test_id("dropdown")
        expect(panel.locator(".note").first).to_be_visible()
        box = panel.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        assert panel.get_by_text("Notifications", exact=True).is_visible()
        screenshot(page, f"dropdown-{width}")
        assert not session.errors, session.errors
    finally:
        session.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_escape_closes_the_dropdown_and_focuses_the_bell(
    browser: Any, world: World, width: int
) -> None:
    session, page = open_as(browser, world, world.vendor, width, "/")
    try:
        bell = page.get_by_test_id("bell")
        expect(bell).to_have_attribute("aria-haspopup", "dialog")
        bell.click()
        panel = page.get_by_test_id("dropdown")
        expect(panel.locator(".note-link").first).to_be_visible()
        panel.locator(".note-link").first.focus()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(bell).to_be_focused()
        expect(bell).to_have_attribute("aria-expanded", "false")
    finally:
        session.close()


VENDOR_PAGES = ["/", "/orders", "/notifications", "/devices", "/preferences"]
CUSTOMER_PAGES = ["/orders", "/checkout", "/notifications"]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_viewport_with_long_unbroken_names(
    browser: Any, world: World, width: int
) -> None:
    order_page = f"/orders/{world.order['id']}"
    for user, paths in (
        (world.vendor, [*VENDOR_PAGES, order_page]),
        (world.customer, [*CUSTOMER_PAGES, order_page]),
    ):
        session, page = open_as(browser, world, user, width, paths[0])
        try:
            for path in paths:
                page.evaluate(GO, path)  # in-app, as a click on a link: no reload
                expect(page.locator("main h1")).to_be_visible()
                page.wait_for_function(LOADED)
                if path == order_page:
                    expect(page.get_by_text(LONG_ITEM)).to_be_visible()
                if path == "/":
                    screenshot(page, f"long-names-dashboard-{width}")
                wide = page_width(page)
                assert wide <= width, (path, user.email, wide, width, page.evaluate(WIDER))
            assert not session.errors, session.errors
        finally:
            session.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_focus_is_on_the_heading_after_each_page_change(
    browser: Any, world: World, width: int
) -> None:
    session, page = open_as(browser, world, world.vendor, width, "/")
    try:
        nav = page.get_by_role("navigation", name="Main")
        for label, heading in [
            ("Orders", "Orders"),
            ("Notifications", "Notifications"),
            ("Devices", "Devices"),
            ("Settings", None),
            ("Dashboard", f"Hello, {LONG_SHOP}"),
        ]:
            nav.get_by_role("link", name=label, exact=True).click()
            focused = page.locator("main h1")
            expect(focused).to_be_focused()
            if heading:
                expect(focused).to_have_text(heading)
        # From an order row to the order page, and back through history.
        page.get_by_test_id("order-list").locator("a").first.click()
        expect(page.get_by_test_id("order-title")).to_be_focused()
        page.go_back()
        expect(page.locator("main h1")).to_be_focused()
    finally:
        session.close()


def test_skip_link_moves_focus_to_the_page_heading(browser: Any, world: World) -> None:
    session, page = open_as(browser, world, world.vendor, 390, "/orders")
    try:
        expect(page.locator("main h1")).to_be_focused()
        skip = page.get_by_role("link", name="Skip to content")
        assert skip.evaluate("(a) => a === document.body.firstElementChild"), "first to tab to"
        skip.focus()  # as the first Tab from the address bar does
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0, "shown while focused"
        page.keyboard.press("Enter")
        expect(page.locator("main h1")).to_be_focused()
        assert page.evaluate("location.pathname") == "/orders"
    finally:
        session.close()


def test_phone_nav_shows_every_link_whole(browser: Any, world: World) -> None:
    session, page = open_as(browser, world, world.vendor, 360, "/")
    try:
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Settings")).to_be_visible()
        # One snapshot of every shown link: the nav is redrawn once the account has
        # loaded, and a link found before that redraw has no box after it.
        boxes = nav.evaluate(
            "(nav) => [...nav.querySelectorAll('a')].filter((a) => a.offsetParent)"
            ".map((a) => [a.textContent.trim(), a.getBoundingClientRect().left,"
            " a.getBoundingClientRect().right])"
        )
        assert boxes, "the nav shows links"
        for name, left, right in boxes:
            assert left >= 0 and right <= 360, (name, left, right)
    finally:
        session.close()
