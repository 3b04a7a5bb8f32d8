"""Installability: a valid manifest with loadable icons, a CSP without inline scripts, and
an app shell that opens offline and says so."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, screenshot, wait_for_service_worker

pytestmark = pytest.mark.browser
PWA = Path(__file__).resolve().parents[2] / "pwa"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_is_valid_and_every_icon_loads(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.get("/manifest.webmanifest")
        assert response.headers["content-type"].startswith("application/manifest+json")
        manifest = response.json()
        assert manifest["display"] == "standalone"
        assert manifest["start_url"] == "/" and manifest["scope"] == "/"
        assert manifest["name"] and manifest["short_name"]
        assert manifest["theme_color"] and manifest["background_color"]
        purposes = set()
        for entry in manifest["icons"]:
            icon = client.get(entry["src"])
            assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
            width, height = png_size(icon.content)
            assert entry["sizes"] == f"{width}x{height}"
            purposes.add((entry["sizes"], entry.get("purpose", "any")))
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes


def test_chromium_finds_the_app_installable(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    page = sessions(live_server.register("vendor")).page("/")
    wait_for_service_worker(page)
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert json.loads(manifest["data"])["short_name"] == "vendorbell"
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Every Playwright context is incognito, where Chromium never offers installation;
    # any other reason (manifest, icons, service worker, secure origin) would be ours.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []


def test_pages_have_a_strict_csp_and_no_inline_script(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.get("/orders/1")  # a client-side route: the app shell
    csp = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and "unsafe-inline" not in script_src.group(1)
    html = (PWA / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert not re.search(r"\son[a-z]+=", html)
    for source in PWA.rglob("*.js"):
        text = source.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, source


def test_offline_reload_shows_the_saved_inbox_orders_and_counts(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    live_server.place_order(customer, vendor)
    session = sessions(vendor)
    page = session.page("/orders")
    wait_for_service_worker(page)
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    expect(page.get_by_test_id("notification-list")).to_contain_text("New order #")
    expect(page.get_by_test_id("bell-badge")).to_have_text("1")

    # The browser is offline: the shell comes from the worker's cache, the inbox, the
    # orders and the counts from what this device saved, marked as such.
    session.context.set_offline(True)
    page.reload()
    banner = page.get_by_test_id("offline-banner")
    expect(banner).to_contain_text("You are offline")
    expect(banner).to_contain_text("saved on this device")
    expect(page.locator(".who-name")).to_have_text("Corner Bakery")
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "offline")
    expect(page.get_by_test_id("notification-list")).to_contain_text("New order #")
    expect(page.get_by_test_id("bell-badge")).to_have_text("1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    expect(page.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")
    screenshot(page, "offline")
    # A listed order never opened online opens from the saved list.
    page.get_by_test_id("order-list").get_by_text("Ada Lovelace").click()
    expect(page.get_by_test_id("order-title")).to_have_text(re.compile(r"^Order #\d+$"))
    expect(page.locator("main")).to_contain_text("Ada Lovelace")
    page.go_back()
    # What was never saved says it needs the connection.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    expect(page.locator("main")).to_contain_text("You are offline")
    session.context.set_offline(False)  # the page hears `online` and reloads itself
    expect(page.get_by_test_id("offline-banner")).to_have_count(0)
    expect(page.get_by_test_id("device-list").or_(page.locator("main .empty"))).to_be_visible()


def test_signing_out_forgets_the_saved_inbox(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    live_server.place_order(customer, vendor)
    page = sessions(vendor).page("/notifications")
    expect(page.get_by_test_id("notification-list")).to_contain_text("New order #")
    assert page.evaluate("Object.keys(localStorage).some((k) => k.startsWith('vb.saved:'))")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    assert not page.evaluate("Object.keys(localStorage).some((k) => k.startsWith('vb.saved:'))")


def test_server_outage_shows_the_cached_shell_and_recovers_by_itself(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    live_server.place_order(customer, vendor)
    page = sessions(vendor).page("/orders")
    wait_for_service_worker(page)
    expect(page.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")

    live_server.stop()  # connection refused: no network answer at all
    page.reload()
    expect(page.get_by_test_id("offline-banner")).to_contain_text("You are offline")
    expect(page.locator(".who-name")).to_have_text("Corner Bakery")

    live_server.start()  # the live channel reconnects and the page redraws itself
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(page.get_by_test_id("offline-banner")).to_have_count(0)
    expect(page.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")


def test_the_worker_precaches_every_file_of_the_app_shell() -> None:
    listed = set(re.findall(r"'(/[^']+)'", (PWA / "sw.js").read_text().split("];")[0]))
    files = {
        "/" + str(p.relative_to(PWA))
        for p in PWA.rglob("*")
        if p.suffix in {".js", ".json", ".css", ".png", ".html", ".webmanifest"}
        and p.name != "sw.js"
        # The marketplace's files (/embed/v1/…) are no part of this app's shell.
        and "embed" not in p.relative_to(PWA).parts
    }
    assert files == listed
