"""The embedded bell end to end, nothing stood in: the example marketplace (its own ES256
key registered with vendorbell) signs a JWT, the element exchanges it at
POST /api/embed/session with real CORS, and events arrive over the first-message socket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from examples.marketplace.shop import Embedding, sri
from server.integrations.signature import header
from tests.browser.conftest import LiveServer
from tests.browser.test_embed_element import BADGE, ELEMENT, RECORDER, ShopServer
from tests.integrations.embedding import register


@pytest.fixture
def shop(live_server: LiveServer) -> Iterator[tuple[ShopServer, Any]]:
    server = ShopServer()
    market = live_server.run(lambda app: register(app, origins=(server.origin,), name="Corner"))
    pem = market.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    server.start(Embedding(live_server.origin, market.id, market.kid, pem, sri(ELEMENT)))
    try:
        yield server, market
    finally:
        server.stop()


def send_event(server: LiveServer, key: tuple[str, str], body: bytes) -> httpx.Response:
    headers = {
        "Vendorbell-Key": key[0],
        "Vendorbell-Signature": header(key[1], int(time.time()), body),
        "Content-Type": "application/json",
    }
    with server.client() as client:
        return client.post("/api/events", content=body, headers=headers)


def test_a_vendor_never_seen_signs_in_through_the_marketplace_and_rings_live(
    browser: Any, live_server: LiveServer, shop: tuple[ShopServer, Any]
) -> None:
    server, market = shop
    context = browser.new_context()
    context.add_init_script(RECORDER)
    sockets: list[Any] = []
    context.on("page", lambda p: p.on("websocket", lambda ws: sockets.append(ws)))
    sessions: list[str] = []  # the bearer sessions the element got, in order

    def exchanged(response: Any) -> None:
        if response.url.endswith("/api/embed/session") and response.status == 201:
            sessions.append(response.json()["token"])

    context.on("response", exchanged)
    try:
        page = context.new_page()
        page.clock.install()
        page.goto(f"{server.origin}/")
        page.fill("input[name=username]", "rosa")
        page.fill("input[name=password]", "bread")
        page.click("text=Sign in")
        page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-ready')")
        assert page.evaluate(f"() => {BADGE}.hidden")  # badge 0
        [user] = live_server.run(lambda app: vendors(app, market.id))
        assert (user.external_sub, user.name) == ("v_1001", "Rosa's Bakery")

        body = (
            b'{"id": "evt_1", "type": "order.created", "vendor": {"sub": "v_1001"},'
            b' "data": {"order_ref": "A-1", "customer": "Ada", "total_cents": 500,'
            b' "currency": "EUR"}}'
        )
        assert send_event(live_server, market.hmac, body).status_code == 201
        page.wait_for_function(f"() => {BADGE}.textContent === '1'")  # no reload
        page.locator("vendor-bell").locator("[part=button]").click()
        href = page.locator("vendor-bell").locator("[part~=item] a").first.get_attribute("href")
        assert href is not None and href.startswith(f"{server.origin}/")

        # The session nears its end while the tab stays open: renewed through /token (the
        # page's clock is moved on; the server's session and socket are real).
        with page.expect_response(f"{live_server.origin}/api/embed/session") as renewed:
            page.clock.run_for(3_000_000)  # past 80 % of the hour's session
        assert renewed.value.status == 201
        page.wait_for_timeout(500)  # the renewal's auth message reaches the socket
        assert len(sessions) == 2
        # The first session ends (as it would at its expiry): the socket moved on.
        headers = {"Authorization": f"Bearer {sessions[0]}", "Origin": server.origin}
        with live_server.client() as client:
            assert client.delete("/api/embed/session", headers=headers).status_code == 204
        body2 = body.replace(b"evt_1", b"evt_2").replace(b"A-1", b"A-2")
        assert send_event(live_server, market.hmac, body2).status_code == 201
        page.wait_for_function(f"() => {BADGE}.textContent === '1'")  # unseen since opened
        assert len(sockets) == 1 and not sockets[0].is_closed()
    finally:
        context.close()


async def vendors(app: Any, integration_id: str) -> list[Any]:
    from sqlalchemy import select

    from server.accounts.models import User

    async with app.state.db.reader() as session:
        rows = await session.scalars(select(User).where(User.integration_id == integration_id))
        return list(rows)
