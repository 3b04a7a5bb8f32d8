"""A locked-out sign-in or sign-up says, from Retry-After, how long to wait."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session

pytestmark = pytest.mark.browser


def test_signin_lockout_says_how_long_to_wait(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    user = live_server.register("vendor", "Locked Shop")
    with live_server.client() as client:
        for _ in range(5):
            wrong = {"email": user.email, "password": "wrong password"}
            assert client.post("/api/auth/login", json=wrong).status_code == 401
    session = sessions()
    page = session.page("/signin")
    form = page.get_by_test_id("signin-form")
    form.locator("input[name=email]").fill(user.email)
    form.locator("input[name=password]").fill(user.password)
    form.get_by_role("button", name="Sign in").click()
    # Retry-After is at most 300 s here: "5 minutes" (or 4 on a slow run).
    expect(form.locator(".form-error")).to_have_text(
        re.compile(r"^Too many sign-in attempts\. Try again in [45] minutes\.$")
    )
    assert not session.errors, session.errors


@pytest.mark.parametrize("live_server", [{"register_max_per_window": 1}], indirect=True)
def test_signup_lockout_says_how_long_to_wait(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    live_server.register("customer")  # the address's one registration in this window
    session = sessions()
    page = session.page("/signin")
    page.get_by_role("button", name="Create an account").click()
    form = page.get_by_test_id("signup-form")
    form.locator("input[name=name]").fill("Second Shop")
    form.locator("input[name=email]").fill("second@example.com")
    form.locator("input[name=password]").fill("correct horse battery")
    form.get_by_role("button", name="Create account").click()
    expect(form.locator(".form-error")).to_have_text(
        re.compile(
            r"^Too many accounts were created from this network\. Try again in (9|10) minutes\.$"
        )
    )
    assert not session.errors, session.errors


def test_signup_from_an_address_locked_out_of_sign_in_lands_signed_in(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    with live_server.client() as client:  # someone at this address fails on other accounts
        for n in range(5):
            wrong = {"email": f"nobody{n}@example.com", "password": "wrong password"}
            assert client.post("/api/auth/login", json=wrong).status_code == 401
    session = sessions()
    page = session.page("/signin")
    logins: list[str] = []
    page.on("request", lambda r: logins.append(r.url) if "/api/auth/login" in r.url else None)
    page.get_by_role("button", name="Create an account").click()
    form = page.get_by_test_id("signup-form")
    form.locator("input[name=name]").fill("New Shop")
    form.locator("input[name=email]").fill("new-shop@example.com")
    form.locator("input[name=password]").fill("correct horse battery")
    with page.expect_response("**/api/auth/register") as registered:
        form.get_by_role("button", name="Create account").click()
    assert registered.value.status == 201
    expect(page.locator("main h1")).to_have_text("Hello, New Shop")
    assert logins == [], "the sign-up's own answer is the session"
    assert not session.errors, session.errors
