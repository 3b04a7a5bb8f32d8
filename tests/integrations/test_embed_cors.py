"""CORS for the embedded bell: only registered origins, only the element's routes, never
credentials; the PWA's cookie and its Origin check stay as they were."""

from __future__ import annotations

from typing import Any

import httpx

from server.integrations.cors import is_element_route
from tests.conftest import Accounts
from tests.integrations.embedding import SHOP, bearer, register, signed_in

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_a_registered_origins_preflight_is_answered(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(app)
    for path in ("/api/embed/session", "/api/notifications/mark-all-read", "/api/preferences"):
        r = await client.options(path, headers={"Origin": SHOP, **PREFLIGHT})
        assert r.status_code == 204, path
        assert r.headers["access-control-allow-origin"] == SHOP
        assert r.headers["vary"] == "Origin"
        allowed = r.headers["access-control-allow-headers"]
        assert allowed == "Authorization, Content-Type, Idempotency-Key"
        assert "POST" in r.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in r.headers


async def test_other_origins_and_other_routes_get_no_cors_headers(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(app)
    refused = {
        "unregistered origin": ("https://evil.example", "/api/embed/session"),
        "the origin with a path": (SHOP + "/", "/api/notifications"),
        "a route the element does not use": (SHOP, "/api/orders"),
        "an admin route": (SHOP, "/api/admin/integrations"),
        "sign-in by password": (SHOP, "/api/auth/login"),
    }
    for case, (origin, path) in refused.items():
        r = await client.options(path, headers={"Origin": origin, **PREFLIGHT})
        assert not any(h.startswith("access-control-") for h in r.headers), case


async def test_answers_to_the_embedded_page_carry_cors_headers_refusals_too(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    session = await signed_in(client, market)
    ok = await client.get("/api/notifications/count", headers=bearer(session))
    refused = await client.get("/api/notifications/count", headers={"Origin": SHOP})
    for r in (ok, refused):
        assert r.headers["access-control-allow-origin"] == SHOP
        assert r.headers["access-control-expose-headers"] == "Retry-After"
        assert "access-control-allow-credentials" not in r.headers
    assert refused.status_code == 401


async def test_a_bearer_write_from_the_embedding_page_skips_the_cookie_origin_check(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    session = await signed_in(client, market)
    r = await client.post("/api/notifications/mark-all-read", headers=bearer(session))
    assert r.status_code == 200, r.text


async def test_a_cookie_write_from_a_registered_marketplace_is_still_refused(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    await register(app)
    vendor = await accounts.vendor()
    login = await client.post(
        "/api/auth/login", json={"email": vendor.email, "password": vendor.password}
    )
    assert login.status_code == 200
    r = await client.post("/api/notifications/mark-all-read", headers={"Origin": SHOP})
    assert (r.status_code, r.json()["code"]) == (403, "csrf_origin_mismatch")
    client.cookies.clear()


async def test_a_new_integrations_origin_is_allowed_at_once(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(app)
    late = "https://late.example"
    before = await client.options("/api/embed/session", headers={"Origin": late, **PREFLIGHT})
    assert "access-control-allow-origin" not in before.headers
    await register(app, origins=(late,), name="Late")
    after = await client.options("/api/embed/session", headers={"Origin": late, **PREFLIGHT})
    assert after.headers["access-control-allow-origin"] == late


def test_the_element_routes_are_the_listed_ones() -> None:
    element = [
        "/api/embed/session",
        "/api/notifications",
        "/api/notifications/",
        "/api/notifications/count",
        "/api/notifications/mark-all-seen",
        "/api/notifications/42/read",
        "/api/notifications/42/events",
        "/api/preferences",
        "/api/push/vapid-public-key",
        "/api/push/subscriptions",
        "/api/push/subscriptions/7",
    ]
    others = ["/api/orders", "/api/me", "/api/push/test", "/api/events", "/api/notifications/a/b/c"]
    assert all(is_element_route(p) for p in element)
    assert not any(is_element_route(p) for p in others)
