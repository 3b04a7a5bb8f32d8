"""/docs and /redoc render on a machine without internet, with no CSP refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session

pytestmark = pytest.mark.browser


def _offline(session: Session) -> list[str]:
    """Every request that leaves the server is refused, and listed."""
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(session.server.origin):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    session.context.route("**/*", route)
    return outside


def test_swagger_ui_lists_the_operations_offline(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    session = sessions()
    outside = _offline(session)
    page = session.page("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/orders").first).to_be_visible()
    assert outside == []
    assert session.errors == []


def test_redoc_shows_the_operations_offline(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    session = sessions()
    outside = _offline(session)
    page = session.page("/redoc")
    expect(page.get_by_text("/api/orders").first).to_be_attached(timeout=15_000)
    assert outside == []
    # Its "Redocly" logo is an image on their site: refused by img-src, and harmless.
    assert [e for e in session.errors if "img-src" not in e] == []
