"""Settings: the account's sessions (sign one out, or all others) and its password."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, User, screenshot

pytestmark = pytest.mark.browser


def signed_in(server: LiveServer, user: User) -> bool:
    with server.client() as client:
        return client.get("/api/me", headers=user.headers).status_code == 200


def test_signing_out_everywhere_else_leaves_only_this_browser(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")  # a session of its own
    page = sessions(vendor).page("/preferences")
    listed = page.get_by_test_id("session-list").locator("li")
    expect(listed).to_have_count(2)
    mine = page.locator(".this-device")
    expect(mine).to_contain_text("This device")
    expect(mine).to_contain_text("Chrome on Linux")
    expect(mine).to_contain_text("127.0.0.1")
    page.get_by_role("button", name="Sign out everywhere else").scroll_into_view_if_needed()
    screenshot(page, "settings-sessions")
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(listed).to_have_count(1)
    expect(page.get_by_role("button", name="Sign out everywhere else")).to_be_hidden()
    assert not signed_in(live_server, vendor)


def test_a_wrong_current_password_is_said_in_the_form_and_a_right_one_changes_it(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    vendor = live_server.register("vendor")
    page = sessions(vendor).page("/preferences")
    expect(page.get_by_test_id("session-list").locator("li")).to_have_count(2)
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password").fill("violet anchor meadow")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_test_id("password-error")).to_have_text("The current password is wrong.")
    assert signed_in(live_server, vendor)

    page.get_by_label("Current password").fill(vendor.password)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()
    expect(page.get_by_test_id("session-list").locator("li")).to_have_count(1)
    assert not signed_in(live_server, vendor), "the other session was not ended"
    with live_server.client() as client:
        login = {"email": vendor.email, "password": "violet anchor meadow"}
        assert client.post("/api/auth/login", json=login).status_code == 200
