"""Signing up, out and in through the forms (the PWA only ever holds the HttpOnly cookie)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, screenshot

pytestmark = pytest.mark.browser


def test_vendor_signs_up_signs_out_and_signs_in_again(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    email = f"shop-{uuid.uuid4().hex[:6]}@example.com"
    session = sessions()
    page = session.page("/")
    expect(page).to_have_url(f"{live_server.origin}/signin")

    page.get_by_role("button", name="Create an account").click()
    screenshot(page, "signup")
    form = page.get_by_test_id("signup-form")
    form.locator("input[name=name]").fill("Corner Bakery")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill("correct horse battery")
    form.get_by_role("button", name="Create account").click()
    expect(page.locator("main h1")).to_have_text("Hello, Corner Bakery")
    expect(page.get_by_test_id("conn-dot")).to_have_attribute("data-state", "live")
    cookies = {c["name"]: c for c in session.context.cookies()}
    assert cookies["vb_session"]["httpOnly"] is True
    assert page.evaluate("document.cookie") == ""  # nothing readable by scripts

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.origin}/signin")
    page.reload()
    expect(page).to_have_url(f"{live_server.origin}/signin")  # the session really ended

    form = page.get_by_test_id("signin-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill("wrong password")
    form.get_by_role("button", name="Sign in").click()
    expect(form.locator(".form-error")).to_be_visible()
    form.locator("input[name=password]").fill("correct horse battery")
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator("main h1")).to_have_text("Hello, Corner Bakery")
    assert not session.errors, session.errors
