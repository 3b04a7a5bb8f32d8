"""Enabling notifications: permission asked from a click, subscription posted, and a real
order travelling server → loopback push service → this browser's service worker.

Simulated: only `PushManager.subscribe()` itself. Headless Chromium has no push service
("AbortError: Registration failed - permission denied"), so the test replaces it with one
that returns a subscription created by the loopback test push service (its endpoint and
keys). Posting it, the server encrypting and signing, the push service verifying VAPID and
decrypting, and that decrypted payload shown by the service worker are all real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    LiveServer,
    Session,
    push_and_show,
    screenshot,
    service_worker,
    wait_for_service_worker,
)
from tests.pushservice import BrowserSubscription, PushService, ThreadedPushService

pytestmark = pytest.mark.browser

FAKE_PUSH_MANAGER = (Path(__file__).parent / "fake_push_manager.js").read_text()


@pytest.fixture
def push_service() -> Iterator[tuple[PushService, ThreadedPushService]]:
    threaded = ThreadedPushService()
    with threaded as service:
        yield service, threaded


def simulate_push_manager(
    session: Session, device: BrowserSubscription, old_key: str | None = None
) -> None:
    script = FAKE_PUSH_MANAGER.replace("__MADE__", json.dumps(device.to_json())).replace(
        "__EXISTING_KEY__", json.dumps(old_key)
    )
    session.context.add_init_script(script)


def served_key(server: LiveServer) -> str:
    with server.client() as client:
        key: str = client.get("/api/push/vapid-public-key").json()["public_key"]
    return key


@pytest.mark.parametrize("live_server", [{"run_worker": True}], indirect=True)
def test_enable_notifications_subscribes_and_a_real_order_push_reaches_the_worker(
    live_server: LiveServer,
    sessions: Callable[..., Session],
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, threaded = push_service
    device = service.subscribe()
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    session = sessions(vendor)
    simulate_push_manager(session, device)
    session.context.grant_permissions(["notifications"], origin=live_server.origin)
    page = session.page("/")
    wait_for_service_worker(page)
    card = page.get_by_test_id("push-card")
    expect(card).to_have_attribute("data-state", "granted")  # nothing asked or sent on load
    assert page.evaluate("window.__push.subscribeCalls") == []

    with page.expect_request("**/api/push/subscriptions") as posted:
        page.get_by_test_id("enable-push").click()
    body = posted.value.post_data_json
    assert body == {**device.to_json(), "label": "Chrome on Linux"}
    assert posted.value.response().status == 201
    [call] = page.evaluate("window.__push.subscribeCalls")
    assert call == {"userVisibleOnly": True, "key": served_key(live_server)}
    expect(card).to_have_attribute("data-state", "subscribed")
    expect(card).to_contain_text("Notifications are on")

    live_server.place_order(customer, vendor)
    future = asyncio.run_coroutine_threadsafe(service.wait_for(1), threaded.loop)
    [received] = future.result(15)
    [shown] = push_and_show(page, received.plaintext.decode())  # as the browser decrypted it
    assert shown["title"] == "New order #1"
    assert shown["tag"] == "order-1"

    page.goto("/devices")
    mine = page.locator(".device.this-device")
    expect(mine).to_contain_text("Chrome on Linux")
    expect(mine).to_contain_text("This browser")
    expect(mine).to_contain_text("127.0.0.1")
    expect(mine).to_contain_text("Delivered")

    page.get_by_role("button", name="Send test notification").click()
    expect(page.locator(".toast")).to_contain_text("Test notification sent to 1 device")
    [_, test] = asyncio.run_coroutine_threadsafe(service.wait_for(2), threaded.loop).result(15)
    tags = sorted(n["tag"] for n in push_and_show(page, test.plaintext.decode(), 2))
    assert tags == ["order-1", f"system-{test.json['notification']['data']['id']}"]
    screenshot(page, "devices")


def test_a_rotated_server_key_makes_the_app_subscribe_again(
    live_server: LiveServer,
    sessions: Callable[..., Session],
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, _ = push_service
    device = service.subscribe()
    vendor = live_server.register("vendor")
    session = sessions(vendor)
    # This browser holds a subscription made with a key the server no longer serves.
    old_key = "BOldKey" + "A" * 80
    simulate_push_manager(session, device, old_key=old_key)
    session.context.grant_permissions(["notifications"], origin=live_server.origin)
    with session.context.expect_event(
        "request", lambda r: r.url.endswith("/api/push/subscriptions") and r.method == "POST"
    ) as posted:
        page = session.page("/")
    assert posted.value.post_data_json["endpoint"] == device.endpoint
    assert page.evaluate("window.__push.unsubscribed") == 1
    [call] = page.evaluate("window.__push.subscribeCalls")
    assert call["key"] == served_key(live_server) != old_key
    expect(page.get_by_test_id("push-card")).to_have_attribute("data-state", "subscribed")


def test_denied_permission_explains_how_to_allow_again(
    browser: Any, live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    session = sessions(live_server.register("vendor"))
    page = session.page("/devices")
    target = session.context.new_cdp_session(page).send("Target.getTargetInfo")
    cdp = browser.new_browser_cdp_session()
    # The state a "Block" click leaves behind, set through DevTools (a real denial).
    cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": live_server.origin,
            "browserContextId": target["targetInfo"]["browserContextId"],
        },
    )
    page.reload()
    assert page.evaluate("Notification.permission") == "denied"
    card = page.get_by_test_id("push-card")
    expect(card).to_have_attribute("data-state", "denied")
    expect(card).to_contain_text("Set “Notifications” to “Allow”")
    expect(page.get_by_test_id("enable-push")).to_have_count(0)
    cdp.detach()


def test_worker_renews_a_subscription_the_push_service_replaced(
    live_server: LiveServer,
    sessions: Callable[..., Session],
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, _ = push_service
    renewed = service.subscribe()
    vendor = live_server.register("vendor")
    session = sessions(vendor)
    session.context.grant_permissions(["notifications"], origin=live_server.origin)
    page = session.page("/")
    wait_for_service_worker(page)
    # Simulated: the push service's new subscription (headless has none) and the event
    # itself (Chromium does not fire pushsubscriptionchange). The handler runs for real:
    # it fetches the served key, subscribes with it and posts the result with the cookie.
    service_worker(page.context).evaluate(
        """(made) => {
          self.__keys = [];
          PushManager.prototype.subscribe = async function (options) {
            self.__keys.push(new Uint8Array(options.applicationServerKey).length);
            return { toJSON: () => made };
          };
          self.dispatchEvent(new ExtendableEvent('pushsubscriptionchange'));
        }""",
        renewed.to_json(),
    )
    with live_server.client() as client:
        for _ in range(100):
            devices = client.get("/api/push/subscriptions", headers=vendor.headers).json()
            if devices:
                break
            page.wait_for_timeout(50)
    [device] = devices
    assert device["endpoint"] == renewed.endpoint
    assert device["label"] == "Chrome on Linux"
    assert service_worker(page.context).evaluate("self.__keys") == [65]  # a P-256 point


def test_devices_page_lists_other_devices_and_removes_one(
    live_server: LiveServer,
    sessions: Callable[..., Session],
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, _ = push_service
    vendor = live_server.register("vendor")
    with live_server.client() as client:
        for label in ("Pixel 8", "Work laptop"):
            body = service.subscribe().to_json(label=label)
            response = client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
            assert response.status_code == 201, response.text
    page = sessions(vendor).page("/devices")
    devices = page.get_by_test_id("device-list").locator(".device")
    expect(devices).to_have_count(2)
    expect(page.locator(".this-device")).to_have_count(0)  # this browser is not subscribed
    expect(devices.first).to_contain_text("No pushes yet")

    devices.filter(has_text="Pixel 8").get_by_role("button", name="Remove").click()
    expect(devices).to_have_count(1)
    expect(devices.first).to_contain_text("Work laptop")
    with live_server.client() as client:
        left = client.get("/api/push/subscriptions", headers=vendor.headers).json()
    assert [d["label"] for d in left] == ["Work laptop"]
