"""axe-core (the copy the axe-playwright-python package ships) on the main pages, in light
and dark colour schemes, at a phone's and a desktop's width: no serious or critical
violation. One server and one browser for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, User, serve

pytestmark = pytest.mark.browser

SEVERE = {"serious", "critical"}
GO = (
    "(path) => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }"
)
LOADED = "() => !/Loading/.test(document.querySelector('main').textContent)"


class World:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.vendor: User = server.register("vendor", "Bea's Bakery")
        customer = server.register("customer", "Cleo")
        self.order = server.place_order(customer, self.vendor)
        server.place_order(customer, self.vendor)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("a11y"), sqlite_template) as server:
        yield World(server)


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def severe_violations(axe: Axe, page: Any) -> list[str]:
    results = axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:4]}"
        for v in results.response["violations"]
        if v["impact"] in SEVERE
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_main_pages_have_no_serious_violations(
    browser: Any, world: World, axe: Axe, scheme: str, width: int
) -> None:
    viewport = {"width": width, "height": 800}
    found: dict[str, list[str]] = {}
    signed_out = Session(browser, world.server, None, viewport=viewport, color_scheme=scheme)
    try:
        page = signed_out.page("/signin")
        expect(page.get_by_test_id("signin-form")).to_be_visible()
        found["/signin"] = severe_violations(axe, page)
    finally:
        signed_out.close()
    session = Session(browser, world.server, world.vendor, viewport=viewport, color_scheme=scheme)
    try:
        page = session.page("/")
        expect(page.get_by_test_id("bell-badge")).to_be_visible()
        for path in [
            "/",
            "/notifications",
            f"/orders/{world.order['id']}",
            "/devices",
            "/preferences",
        ]:
            page.evaluate(GO, path)
            expect(page.locator("main h1")).to_be_visible()
            page.wait_for_function(LOADED)
            found[path] = severe_violations(axe, page)
        # The open dropdown too.
        page.get_by_test_id("bell").click()
        expect(page.get_by_test_id("dropdown").locator(".note").first).to_be_visible()
        found["dropdown"] = severe_violations(axe, page)
    finally:
        session.close()
    assert not any(found.values()), {path: v for path, v in found.items() if v}
