"""Order pages for both parties: accept, status changes, payment, refund, decline with a
reason and messages, each change reaching the other party's open page without reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, screenshot

pytestmark = pytest.mark.browser
LIVE = 2_000


def test_vendor_and_customer_work_an_order_through_its_life(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    order = live_server.place_order(customer, vendor)
    shop = sessions(vendor).page(f"/orders/{order['id']}")
    buyer = sessions(customer).page(f"/orders/{order['id']}")
    expect(buyer.get_by_test_id("status")).to_have_text("New")

    shop.locator("[data-action=accepted]").click()
    expect(buyer.get_by_test_id("status")).to_have_text("Accepted", timeout=LIVE)
    shop.locator("[data-action=preparing]").click()
    expect(buyer.get_by_test_id("status")).to_have_text("Preparing", timeout=LIVE)

    buyer.locator("form.inline-form input[name=amount]").fill("9.20")
    buyer.get_by_role("button", name="Pay").click()
    expect(shop.locator(".totals")).to_contain_text("Paid€9.20", timeout=LIVE)

    shop.locator("form.inline-form input[name=amount]").fill("2.20")
    shop.locator("form.inline-form input[name=reason]").fill("Croissant sold out")
    shop.get_by_role("button", name="Refund").click()
    expect(buyer.locator(".ledger")).to_contain_text("Refund — Croissant sold out", timeout=LIVE)
    # Money given back, not money owed: nothing to pay again.
    expect(buyer.locator(".totals")).to_contain_text("Refunded€2.20")
    expect(buyer.locator(".totals")).to_contain_text("Outstanding€0.00")
    expect(buyer.get_by_role("button", name="Pay", exact=True)).to_have_count(0)

    buyer.locator("textarea[name=body]").fill("Could you add a napkin?")
    buyer.get_by_role("button", name="Send").click()
    expect(shop.locator(".messages")).to_contain_text("Could you add a napkin?", timeout=LIVE)
    shop.locator("textarea[name=body]").fill("Of course!")
    shop.get_by_role("button", name="Send").click()
    expect(buyer.locator(".messages li.theirs")).to_contain_text("Of course!", timeout=LIVE)

    shop.locator("[data-action=shipped]").click()
    shop.locator("[data-action=delivered]").click()
    expect(buyer.get_by_test_id("status")).to_have_text("Delivered", timeout=LIVE)
    expect(shop.locator("[data-action]")).to_have_count(0)  # nothing left to do
    shop.evaluate("window.scrollTo(0, 0)")
    screenshot(shop, "order")


def test_vendor_declines_with_a_reason_the_customer_sees(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    order = live_server.place_order(customer, vendor)
    shop = sessions(vendor).page(f"/orders/{order['id']}")
    buyer = sessions(customer).page("/orders")
    expect(buyer.get_by_test_id("order-list")).to_contain_text("New")

    shop.locator("[data-action=rejected]").click()
    shop.locator("input[name=reason]").fill("Closed for a holiday")
    shop.get_by_role("button", name="Decline order").click()
    expect(shop.get_by_test_id("status")).to_have_text("Declined")
    # The customer's open order list follows live; the order page says why.
    expect(buyer.get_by_test_id("order-list")).to_contain_text("Declined", timeout=LIVE)
    buyer.get_by_test_id("order-list").locator("a").first.click()
    expect(buyer.locator("main")).to_contain_text("Declined: Closed for a holiday")


def test_vendor_records_cash_at_pickup_and_the_customer_sees_it(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    live_server.place_order(customer, vendor)  # unpaid: not counted as paid today
    order = live_server.place_order(customer, vendor)  # €9.20
    shop = sessions(vendor).page(f"/orders/{order['id']}")
    buyer = sessions(customer).page(f"/orders/{order['id']}")
    expect(buyer.get_by_test_id("status")).to_have_text("New")

    shop.get_by_label("Cash received").fill("9.20")
    shop.get_by_role("button", name="Record cash payment").click()
    expect(shop.locator(".totals")).to_contain_text("Paid€9.20")
    expect(shop.get_by_label("Cash received")).to_have_count(0)  # nothing left to pay
    expect(shop.get_by_test_id("order-title")).to_be_focused()  # not lost with the form
    expect(buyer.locator(".totals")).to_contain_text("Paid€9.20", timeout=LIVE)
    expect(buyer.get_by_role("button", name="Pay", exact=True)).to_have_count(0)
    [note] = [n for n in live_server.notifications(customer) if n["type"] == "payment"]
    assert note["title"] == f"Corner Bakery received €9.20 for #{order['id']}"
    # The dashboard counts money in, not orders placed.
    shop.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(shop.get_by_test_id("stat-sales")).to_contain_text("€9.20")
    expect(shop.get_by_test_id("stat-sales")).to_contain_text("Paid today")


def test_a_customer_is_offered_notifications_on_the_page_of_their_order(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    live_server.register("vendor", "Corner Bakery")
    customer = live_server.register("customer", "Ada Lovelace")
    page = sessions(customer).page("/checkout")
    page.get_by_test_id("vendor-select").select_option(label="Corner Bakery")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("order-title")).to_be_visible()
    card = page.get_by_test_id("push-card")
    expect(card).to_contain_text("Follow your orders")
    expect(card.get_by_test_id("enable-push")).to_be_visible()


def test_a_payment_whose_answer_was_lost_is_recorded_once_when_sent_again(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    customer = live_server.register("customer")
    order = live_server.place_order(customer, vendor)  # €9.20
    session = sessions(customer)
    buyer = session.page(f"/orders/{order['id']}")
    lost: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        if lost:
            route.continue_()
            return
        route.fetch()  # the server records the payment...
        lost.append(route.request.headers["idempotency-key"])
        route.abort()  # ...and its answer never arrives

    buyer.route("**/payments", lose_the_first_answer)
    buyer.locator("form.inline-form input[name=amount]").fill("5.00")
    buyer.get_by_role("button", name="Pay", exact=True).click()
    expect(buyer.locator(".toast-error")).to_have_count(1)
    assert lost
    buyer.get_by_role("button", name="Pay", exact=True).click()  # the person tries again
    expect(buyer.locator(".totals")).to_contain_text("Paid€5.00")
    expect(buyer.locator(".totals")).to_contain_text("Outstanding€4.20")
    with live_server.client() as client:
        fresh = client.get(f"/api/orders/{order['id']}", headers=customer.headers).json()
    assert fresh["paid_cents"] == 500 and len(fresh["payments"]) == 1
