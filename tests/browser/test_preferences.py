"""Settings (types and quiet hours), per-device mute, and the engagement chart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from server.notifications.types import KINDS, Kind, declare
from server.push.payload import PUSH_TYPES
from tests.browser.conftest import OUTPUT, LiveServer, Session, User, screenshot
from tests.pushservice import PushService, ThreadedPushService

pytestmark = pytest.mark.browser


@pytest.fixture
def push_service() -> Iterator[tuple[PushService, ThreadedPushService]]:
    threaded = ThreadedPushService()
    with threaded as service:
        yield service, threaded


def api_get(server: LiveServer, user: User, path: str) -> Any:
    with server.client() as client:
        response = client.get(path, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def add_device(server: LiveServer, user: User, service: PushService, label: str) -> str:
    body = {**service.subscribe().to_json(), "label": label}
    with server.client() as client:
        response = client.post("/api/push/subscriptions", json=body, headers=user.headers)
    assert response.status_code in (200, 201), response.text
    device_id: str = response.json()["id"]
    return device_id


def test_settings_are_saved_and_shown_again_after_a_reload(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    session = sessions(
        vendor, timezone_id="Europe/Berlin", viewport={"width": 1024, "height": 1180}
    )
    page = session.page("/")
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(f"{live_server.origin}/preferences")
    zone = page.get_by_test_id("quiet-zone")
    expect(zone).to_have_value("Europe/Berlin")  # never set: this browser's zone
    order_inbox = page.get_by_role("switch", name="Inbox for Orders")
    expect(order_inbox).to_be_checked()
    expect(order_inbox).to_be_disabled()
    expect(page.get_by_test_id("preferences-form")).to_contain_text(
        "Orders always stay in the inbox"
    )
    expect(page.get_by_test_id("quiet-start")).to_be_disabled()  # until quiet hours are on

    expect(page.get_by_role("switch", name="Email for Orders")).to_be_checked()
    # Only orders fall back to email: no other type offers a switch that would do nothing.
    for other in ("Payments", "Messages", "System"):
        expect(page.get_by_role("switch", name=f"Email for {other}")).to_have_count(0)
    page.get_by_role("switch", name="Push for Messages").uncheck()
    page.get_by_role("switch", name="Email for Orders").uncheck()
    page.get_by_role("switch", name="Quiet hours").check()
    page.get_by_test_id("quiet-start").fill("23:30")
    page.get_by_test_id("quiet-end").fill("06:15")
    page.get_by_role("switch", name="New orders ring anyway").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".toast")).to_contain_text("Settings saved.")

    saved = api_get(live_server, vendor, "/api/preferences")
    assert saved["types"] == {
        "order": {"push": True, "inbox": True, "email": False},
        "payment": {"push": True, "inbox": True, "email": False},
        "message": {"push": False, "inbox": True, "email": False},
        "system": {"push": True, "inbox": True, "email": False},
    }
    assert saved["quiet_hours"] == {
        "enabled": True,
        "start": "23:30",
        "end": "06:15",
        "time_zone": "Europe/Berlin",
        "orders_ring": False,
    }

    page.reload()
    expect(page.get_by_role("switch", name="Push for Messages")).not_to_be_checked()
    expect(page.get_by_role("switch", name="Push for Payments")).to_be_checked()
    expect(page.get_by_role("switch", name="Email for Orders")).not_to_be_checked()
    expect(page.get_by_role("switch", name="Quiet hours")).to_be_checked()
    expect(page.get_by_test_id("quiet-start")).to_have_value("23:30")
    expect(page.get_by_test_id("quiet-end")).to_have_value("06:15")
    expect(page.get_by_role("switch", name="New orders ring anyway")).not_to_be_checked()
    screenshot(page, "preferences")  # docs/preferences.png is a copy of it
    assert session.errors == []


def test_the_settings_address_people_guess_opens_the_settings(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    session = sessions(live_server.register("vendor", "Corner Bakery"))
    page = session.page("/settings")
    expect(page.locator("main h1")).to_have_text("Settings")
    expect(page).to_have_url(f"{live_server.origin}/preferences")
    assert session.errors == []


def test_a_customers_settings_show_only_what_reaches_a_customer(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    customer = live_server.register("customer", "Ada Lovelace")
    session = sessions(customer, viewport={"width": 390, "height": 844})
    page = session.page("/preferences")
    form = page.get_by_test_id("preferences-form")
    expect(form.get_by_role("switch", name="Push for Orders")).to_be_checked()
    expect(form).to_contain_text("Your orders: accepted, ready, cancelled")
    expect(form).to_contain_text("Messages from vendors")
    # No vendor-only control: no email, no reminders of waiting orders, no order ringing
    # through quiet hours, and no vendor wording.
    expect(form.get_by_role("switch", name="Email for Orders")).to_have_count(0)
    expect(form.get_by_role("columnheader", name="Email")).to_have_count(0)
    expect(page.get_by_test_id("alerts-every")).to_have_count(0)
    expect(page.get_by_test_id("quiet-orders-ring")).to_have_count(0)
    for vendor_words in ("New orders", "until you accept", "ring anyway", "email"):
        expect(form).not_to_contain_text(vendor_words)
    form.get_by_role("switch", name="Push for Messages").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".toast")).to_contain_text("Settings saved.")
    saved = api_get(live_server, customer, "/api/preferences")
    assert saved["types"]["message"] == {"push": False, "inbox": True, "email": False}
    assert all(not channels["email"] for channels in saved["types"].values())
    assert session.errors == []


def test_an_unknown_time_zone_shows_the_servers_error_and_saves_nothing(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    customer = live_server.register("customer")
    page = sessions(customer).page("/preferences")
    page.get_by_role("switch", name="Quiet hours").check()
    page.get_by_test_id("quiet-zone").fill("Mars/Olympus_Mons")
    page.get_by_role("button", name="Save settings").click()
    error = page.get_by_test_id("preferences-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(  # the server's code, worded by the PWA (pwa/i18n/en.json)
        "“Mars/Olympus_Mons” is not a time zone we know. "
        "Please choose one from the list, like Europe/Berlin."
    )
    assert api_get(live_server, customer, "/api/preferences")["quiet_hours"]["enabled"] is False

    page.get_by_test_id("quiet-zone").fill("Asia/Tokyo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".toast")).to_contain_text("Settings saved.")
    expect(page.get_by_test_id("preferences-error")).to_be_hidden()
    assert api_get(live_server, customer, "/api/preferences")["quiet_hours"]["time_zone"] == (
        "Asia/Tokyo"
    )


def test_muting_a_device_on_the_devices_page_mutes_it_on_the_server(
    live_server: LiveServer,
    sessions: Callable[..., Session],
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, _ = push_service
    vendor = live_server.register("vendor")
    kitchen = add_device(live_server, vendor, service, "Kitchen tablet")
    phone = add_device(live_server, vendor, service, "Pixel 8")
    page = sessions(vendor).page("/devices")
    mute = page.get_by_role("switch", name="Mute Kitchen tablet")
    expect(mute).not_to_be_checked()
    mute.check()
    expect(page.locator(".toast")).to_contain_text("Kitchen tablet is muted.")
    devices = {d["id"]: d for d in api_get(live_server, vendor, "/api/push/subscriptions")}
    assert devices[kitchen]["muted"] is True
    assert devices[phone]["muted"] is False
    expect(page.locator(f".device[data-id='{kitchen}']")).to_contain_text("Muted")

    page.reload()
    expect(page.get_by_role("switch", name="Mute Kitchen tablet")).to_be_checked()
    page.get_by_role("switch", name="Mute Kitchen tablet").uncheck()
    expect(page.locator(".toast").last).to_contain_text("Kitchen tablet rings again.")
    devices = {d["id"]: d for d in api_get(live_server, vendor, "/api/push/subscriptions")}
    assert devices[kitchen]["muted"] is False
    expect(page.locator(f".device[data-id='{kitchen}'] .muted-pill")).to_be_hidden()


@pytest.mark.parametrize("live_server", [{"run_worker": True}], indirect=True)
def test_dashboard_chart_shows_each_day_and_the_servers_click_through_rate(
    live_server: LiveServer,
    sessions: Callable[..., Session],
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, threaded = push_service
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    add_device(live_server, vendor, service, "Counter phone")
    for _ in range(4):
        live_server.place_order(customer, vendor)
    asyncio.run_coroutine_threadsafe(service.wait_for(4), threaded.loop).result(15)
    now = datetime.now(UTC)
    start, end = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=1)).isoformat()
    path = "/api/analytics/summary?" + urlencode({"from": start, "to": end})
    deadline = time.monotonic() + 10
    while api_get(live_server, vendor, path)["totals"]["delivered"] < 4:
        # The worker writes outcomes in batches after the push service answered.
        assert time.monotonic() < deadline, "deliveries never recorded"
        time.sleep(0.05)
    [first, *_] = live_server.notifications(vendor)
    with live_server.client() as client:
        response = client.post(
            f"/api/notifications/{first['id']}/events",
            json={"event": "clicked"},
            headers=vendor.headers,
        )
    assert response.status_code == 204, response.text
    totals = api_get(live_server, vendor, path)["totals"]
    assert (totals["reached"], totals["clicked"], totals["ctr"]) == (4, 1, 0.25)

    page = sessions(vendor, locale="en-US", color_scheme="dark").page("/")
    chart = page.get_by_test_id("engagement-chart")
    expect(chart).to_be_visible()
    assert chart.evaluate("el => el.namespaceURI") == "http://www.w3.org/2000/svg"
    days = chart.locator("g.chart-day")
    expect(days).to_have_count(14)
    today = days.last
    expect(today.locator("rect.bar-notifications")).to_have_attribute("data-value", "4")
    expect(today.locator("rect.bar-delivered")).to_have_attribute("data-value", "4")
    expect(today.locator("rect.bar-read")).to_have_attribute("data-value", "1")
    expect(days.first.locator("rect.bar-notifications")).to_have_attribute("data-value", "0")
    expect(page.get_by_test_id("figure-ctr")).to_contain_text("25%")
    expect(page.get_by_test_id("figure-ctr")).to_contain_text("1 of 4 reached")
    expect(page.get_by_test_id("figure-read")).to_contain_text("1 read")
    expect(page.get_by_test_id("figure-failed")).to_contain_text("0 / 0")
    expect(page.get_by_test_id("order-figures")).to_have_text(
        "4 orders · 4 still waiting"  # pending: not "never accepted", and no empty median
    )
    expect(chart.locator("title").first).to_have_text("Notifications per day, last 14 days")
    expect(chart.locator("desc")).to_contain_text("4 received, 1 read and 4 of 4 pushes delivered")
    expect(page.get_by_test_id("no-pushes")).to_be_hidden()
    OUTPUT.mkdir(exist_ok=True)
    page.get_by_test_id("engagement").screenshot(path=str(OUTPUT / "engagement-dark.png"))


def test_dashboard_chart_without_a_device_shows_the_inbox_and_updates_live(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    live_server.place_order(customer, vendor)

    page = sessions(vendor, locale="en-US").page("/")
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")
    chart = page.get_by_test_id("engagement-chart")
    today = chart.locator("g.chart-day").last
    expect(today.locator("rect.bar-notifications")).to_have_attribute("data-value", "1")
    expect(today.locator("rect.bar-read")).to_have_attribute("data-value", "0")
    expect(today.locator("rect.bar-delivered")).to_have_count(0)  # no pushes, no push bars
    assert float(today.locator("rect.bar-notifications").get_attribute("height") or 0) > 0
    expect(page.get_by_test_id("no-pushes")).to_have_text(
        "No device received pushes in this period; the chart shows your inbox."
    )
    page.evaluate("window.__sameChart = document.querySelector('[data-testid=engagement-chart]')")

    # A second order while the dashboard is shown: the chart redraws without a reload.
    live_server.place_order(customer, vendor)
    expect(today.locator("rect.bar-notifications")).to_have_attribute(
        "data-value", "2", timeout=5_000
    )
    expect(chart.locator("desc")).to_contain_text("2 received, 0 read")
    # Same document (the marker survived), new drawing.
    assert page.evaluate(
        "window.__sameChart instanceof SVGElement"
        " && window.__sameChart !== document.querySelector('[data-testid=engagement-chart]')"
    )


@pytest.fixture
def shipping() -> Iterator[Kind]:
    """A type declared on the server only, with a fallback email: the PWA has no words
    for it."""
    kind = declare(Kind("shipping", 3600, "low", email=True, digest=lambda lang, n: str(n)))
    yield kind
    del KINDS[kind.name], PUSH_TYPES[kind.name]


def test_the_settings_list_the_types_the_server_declares(
    live_server: LiveServer, sessions: Callable[..., Session], shipping: Kind
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    session = sessions(vendor)
    page = session.page("/preferences")
    rows = page.get_by_test_id("preferences-form").locator("tbody tr")
    expect(rows).to_have_count(len(KINDS))
    assert rows.evaluate_all("rows => rows.map((row) => row.dataset.type)") == list(KINDS)
    # A type without words in the PWA yet is named as the server names it, and saved.
    expect(rows.last.locator(".pref-type")).to_have_text("shipping")
    # Its email switch is there because the server offers it, on as the kind says.
    expect(page.get_by_role("switch", name="Email for shipping")).to_be_checked()
    expect(page.get_by_role("switch", name="Email for Payments")).to_have_count(0)
    page.get_by_role("switch", name="Push for shipping").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".toast")).to_contain_text("Settings saved.")
    saved = api_get(live_server, vendor, "/api/preferences")
    assert saved["types"]["shipping"] == {"push": False, "inbox": True, "email": True}
    assert saved["types"]["payment"]["email"] is False
    assert session.errors == []
