"""What people read when something fails: sentences with money as money, a failed
"Enable notifications" explained and kept on screen with a retry, no stale errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, User, screenshot, serve

pytestmark = pytest.mark.browser


class World:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.vendor: User = server.register("vendor", "Corner Bakery")
        self.customer: User = server.register("customer", "Ada Lovelace")
        self.order: dict[str, Any] = server.place_order(self.customer, self.vendor)  # €9.20


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("words"), sqlite_template) as server:
        yield World(server)


@pytest.fixture
def session_of(browser: Any, world: World) -> Iterator[Any]:
    opened: list[Session] = []

    def open_session(user: User | None, **options: Any) -> Session:
        opened.append(Session(browser, world.server, user, **options))
        return opened[-1]

    yield open_session
    for session in opened:
        session.close()


def test_a_blank_name_is_refused_in_a_sentence(world: World, session_of: Any) -> None:
    page = session_of(None).page("/signin")
    page.get_by_role("button", name="Create an account").click()
    form = page.get_by_test_id("signup-form")
    form.locator("input[name=name]").fill("   ")
    form.locator("input[name=email]").fill("blank@example.com")
    form.locator("input[name=password]").fill("correct horse battery")
    form.get_by_role("button", name="Create account").click()
    expect(form.locator(".form-error")).to_have_text(
        "Please fill in the name: it cannot be only spaces."
    )


def test_paying_more_than_is_owed_says_how_much_is_open_in_money(
    world: World, session_of: Any
) -> None:
    session = session_of(world.customer)
    page = session.page(f"/orders/{world.order['id']}")
    page.get_by_label("Amount to pay").fill("12.00")
    page.get_by_role("button", name="Pay", exact=True).click()
    toast = page.locator(".toast-error")
    expect(toast).to_have_text(re.compile(r"only €9\.20 is still open on this order\."))
    expect(toast).not_to_contain_text("cents")
    # An error stays until it is dismissed.
    page.wait_for_timeout(4000)
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)


def test_a_checkout_error_goes_away_when_the_form_changes(world: World, session_of: Any) -> None:
    page = session_of(world.customer).page("/checkout")
    form = page.get_by_test_id("checkout-form")
    page.get_by_test_id("vendor-select").select_option(label="Corner Bakery")
    form.get_by_label("Unit price").fill("three euros")
    page.get_by_test_id("place-order").click()
    error = form.locator(".form-error")
    expect(error).to_have_text("Every item needs a name, a quantity and a price.")
    form.get_by_label("Unit price").fill("3.00")
    expect(error).to_be_hidden()


def test_failed_enable_notifications_explains_what_failed_and_what_still_works(
    world: World, session_of: Any
) -> None:
    # Headless Chromium has no push service: subscribe() fails with the browser's
    # "Registration failed - permission denied" although permission is granted, as on
    # the vendor's phone in the report.
    session = session_of(world.vendor)
    session.context.grant_permissions(["notifications"], origin=world.server.origin)
    page = session.page("/")
    page.evaluate("navigator.serviceWorker.ready")
    page.get_by_test_id("enable-push").click()
    card = page.get_by_test_id("push-card")
    expect(card.get_by_role("heading")).to_have_text("Notifications could not be turned on")
    failure = card.get_by_test_id("push-failure")
    expect(failure).to_contain_text("could not reach its push service")
    expect(failure).to_contain_text("while vendorbell is open in a tab, every new order appears")
    expect(failure).to_contain_text("emailed to you")
    expect(page.locator("body")).not_to_contain_text("Registration failed")
    screenshot(page, "push-failure")
    # The Devices page shows the same, with the retry, instead of sending the vendor back.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    card = page.get_by_test_id("push-card")
    expect(card.get_by_test_id("push-failure")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Enable them above")
    card.get_by_role("button", name="Try again").click()
    expect(card.get_by_test_id("push-failure")).to_be_visible()
    assert not [e for e in session.errors if "push" not in e.lower()], session.errors
