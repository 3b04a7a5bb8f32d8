"""WS /ws/notifications signed in by its first message, as the embedded element does it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Accounts, place_order
from tests.integrations.embedding import SHOP as EMBEDDING_SHOP
from tests.integrations.embedding import register, signed_in
from tests.realtime.conftest import close_code, next_message, open_socket

SHOP = EMBEDDING_SHOP  # the origin the embedding helpers exchange from
OTHER_PAGE = "https://other.example"


@pytest.fixture
def embedding(app: Any) -> None:
    """SHOP is an origin some integration allows to embed the element."""

    async def allowed() -> frozenset[str]:
        return frozenset({SHOP})

    app.state.embed_origins = allowed


def auth(token: str) -> str:
    return json.dumps({"type": "auth", "token": token})


async def login_again(client: httpx.AsyncClient, vendor: Any) -> str:
    response = await client.post(
        "/api/auth/login", json={"email": vendor.email, "password": vendor.password}
    )
    client.cookies.clear()
    token: str = response.json()["token"]
    return token


@pytest.mark.usefixtures("embedding")
async def test_a_token_in_the_first_message_from_an_embedding_origin_signs_the_socket_in(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send(auth(vendor.token))
        assert (await next_message(ws, "authenticated"))["type"] == "authenticated"
        await place_order(client, customer, vendor)
        message = await next_message(ws)
    assert message["notification"]["event"] == "order.created"


@pytest.mark.usefixtures("embedding")
async def test_a_page_of_a_site_that_may_not_embed_is_closed_4403(
    ws_url: str, accounts: Accounts
) -> None:
    await accounts.vendor()
    async with open_socket(ws_url, origin="https://evil.example") as ws:
        # Refused before any token is sent: the page's origin alone decides.
        assert await close_code(ws) == 4403


@pytest.mark.usefixtures("embedding")
async def test_a_first_message_that_is_not_a_valid_auth_is_closed_4401(
    ws_url: str, accounts: Accounts
) -> None:
    await accounts.vendor()
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send('{"type":"pong"}')
        assert await close_code(ws) == 4401
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send(auth("not-a-real-token"))
        assert await close_code(ws) == 4401


@pytest.mark.usefixtures("embedding")
async def test_a_renewed_token_keeps_the_same_socket_after_the_first_one_ends(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    renewed = await login_again(client, vendor)
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send(auth(vendor.token))
        await next_message(ws, "authenticated")
        await ws.send(auth(renewed))
        await next_message(ws, "authenticated")  # the renewal took
        # The first token ends (as a session past its expiry does): the socket moved on.
        response = await client.post("/api/auth/logout", headers=vendor.headers)
        assert response.status_code == 204
        await place_order(client, customer, vendor)
        assert (await next_message(ws))["notification"]["event"] == "order.created"


@pytest.mark.usefixtures("embedding")
async def test_a_socket_whose_token_ends_without_renewal_is_closed_4401(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send(auth(vendor.token))
        await next_message(ws, "authenticated")
        await client.post("/api/auth/logout", headers=vendor.headers)
        assert await close_code(ws) == 4401


@pytest.mark.usefixtures("embedding")
async def test_a_renewal_with_another_vendors_token_closes_the_socket_4401(
    ws_url: str, accounts: Accounts
) -> None:
    alice, bob = await accounts.vendor(), await accounts.vendor()
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send(auth(alice.token))
        await next_message(ws, "authenticated")
        await ws.send(auth(bob.token))
        assert await close_code(ws) == 4401


async def test_no_origin_may_embed_until_an_integration_names_it(
    ws_url: str, accounts: Accounts
) -> None:
    await accounts.vendor()
    async with open_socket(ws_url, origin=SHOP) as ws:
        assert await close_code(ws) == 4403


async def test_an_integrations_origin_signs_in_with_its_embedded_session(
    app: Any, ws_url: str, client: httpx.AsyncClient
) -> None:
    market = await register(app, origins=(SHOP, OTHER_PAGE))
    session = await signed_in(client, market)  # bound to SHOP, where it was exchanged
    async with open_socket(ws_url, origin=SHOP) as ws:
        await ws.send(auth(session["token"]))
        assert (await next_message(ws, "authenticated"))["type"] == "authenticated"


async def test_an_embedded_session_used_from_another_allowed_page_is_closed_4403(
    app: Any, ws_url: str, client: httpx.AsyncClient
) -> None:
    market = await register(app, origins=(SHOP, OTHER_PAGE))
    session = await signed_in(client, market)
    async with open_socket(ws_url, origin=OTHER_PAGE) as ws:
        await ws.send(auth(session["token"]))
        assert await close_code(ws) == 4403
