"""The service worker: controls the app, shows pushes made by the server, sets the badge,
reports clicks so push, inbox and open tabs share one read state."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from server.notifications import inbox
from server.notifications.models import Notification
from server.push.payload import build_message
from tests.browser.conftest import (
    LiveServer,
    Session,
    User,
    deliver_push,
    push_and_show,
    service_worker,
    shown_notifications,
    wait_for_service_worker,
)

pytestmark = pytest.mark.browser

# Observation hook, not a stand-in: headless Chromium has no OS badge to read back, so the
# test records what the worker asks for (the real setAppBadge is still called).
RECORD_BADGE = """() => {
  const real = WorkerNavigator.prototype.setAppBadge;
  self.__badges = [];
  WorkerNavigator.prototype.setAppBadge = function (n) {
    self.__badges.push(n);
    return real.call(this, n).catch(() => undefined);
  };
}"""


def server_payload(server: LiveServer, user: User) -> str:
    """The exact Declarative Web Push JSON the delivery worker would encrypt for `user`."""

    newest = int(server.notifications(user)[0]["id"])

    async def build(app: Any) -> str:
        async with app.state.units.reader() as uow:
            notification = await uow.session.get(Notification, newest)
            counts = await inbox.counts(uow, int(user.id))
            message = build_message(notification, app_badge=counts.unseen, link_base=server.origin)
            return message.payload

    return server.run(build)


def vendor_tab(server: LiveServer, sessions: Callable[..., Session], vendor: User) -> Any:
    session = sessions(vendor)
    session.context.grant_permissions(["notifications"], origin=server.origin)
    page = session.page("/")
    wait_for_service_worker(page)
    return page


def test_worker_registers_and_controls_the_app(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    page = vendor_tab(live_server, sessions, live_server.register("vendor"))
    assert (
        page.evaluate("navigator.serviceWorker.controller.scriptURL")
        == f"{live_server.origin}/sw.js"
    )
    assert (
        page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
        == f"{live_server.origin}/"
    )


def test_server_push_shows_the_notification_and_sets_the_app_badge(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    page = vendor_tab(live_server, sessions, vendor)
    live_server.place_order(customer, vendor)
    live_server.place_order(customer, vendor)
    payload = server_payload(live_server, vendor)
    assert json.loads(payload)["app_badge"] == 2
    service_worker(page.context).evaluate(RECORD_BADGE)

    [shown] = push_and_show(page, payload)
    assert shown["title"] == "New order #2"
    assert shown["tag"] == "order-2"
    assert shown["body"].startswith("3 items, €9.20 from Ada Lovelace")
    assert shown["requireInteraction"] is True  # a new order waits for the vendor
    assert shown["data"]["navigate"] == f"{live_server.origin}/orders/2"
    assert shown["icon"].endswith("/icons/icon-192.png")
    assert service_worker(page.context).evaluate("self.__badges") == [2]


def test_a_repeated_push_collapses_into_one_notification_by_tag(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    page = vendor_tab(live_server, sessions, vendor)
    live_server.place_order(customer, vendor)
    payload = server_payload(live_server, vendor)
    deliver_push(page, payload)
    deliver_push(page, payload)
    page.wait_for_timeout(300)  # give a wrongly duplicated notification time to appear
    assert [n["tag"] for n in shown_notifications(page)] == ["order-1"]


def test_unreadable_push_still_shows_a_generic_notification(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    page = vendor_tab(live_server, sessions, live_server.register("vendor"))
    deliver_push(page, "not json {")
    [shown] = shown_notifications(page)
    assert shown["title"] == "vendorbell"
    assert shown["body"] == "You have a new update. Open vendorbell to see it."
    assert shown["data"]["navigate"] == "/notifications"


def test_clicking_a_notification_opens_its_order_in_the_open_tab_and_marks_it_read(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    page = vendor_tab(live_server, sessions, vendor)
    live_server.place_order(customer, vendor)
    expect(page.get_by_test_id("bell-badge")).to_have_text("1")
    push_and_show(page, server_payload(live_server, vendor))

    # Headless Chromium cannot click a system notification: dispatch the same event
    # the browser would, so the worker's real notificationclick handler runs.
    # The page itself never marks a notification read on navigation, so the read state
    # below can only come from the worker's `clicked` report.
    service_worker(page.context).evaluate(
        """async () => {
          const [n] = await self.registration.getNotifications();
          self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
        }"""
    )
    expect(page).to_have_url(f"{live_server.origin}/orders/1")
    expect(page.get_by_test_id("order-title")).to_have_text("Order #1")
    expect(page.get_by_test_id("bell-badge")).to_be_hidden()  # counts pushed over the WebSocket
    assert live_server.notifications(vendor)[0]["read_at"] is not None
    assert shown_notifications(page, 0) == []  # the clicked notification was closed
