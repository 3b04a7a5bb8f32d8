"""WS /ws/notifications in one process (memory hub), as an open tab sees it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from server.notifications.service import notify
from tests.conftest import Accounts, place_order
from tests.realtime.conftest import close_code, next_message, open_socket


async def test_new_order_reaches_the_vendors_open_tab(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with open_socket(ws_url, token=vendor.token) as ws:
        order = await place_order(client, customer, vendor)
        message = await next_message(ws)
    assert message["type"] == "notification"
    assert message["notification"]["event"] == "order.created"
    assert message["notification"]["url"] == f"/orders/{order['id']}"
    assert (message["unread"], message["unseen"]) == (1, 1)


async def test_session_cookie_from_our_origin_is_accepted(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    headers = {"Cookie": f"vb_session={vendor.token}"}
    async with open_socket(ws_url, additional_headers=headers, origin="http://testserver") as ws:
        await place_order(client, customer, vendor)
        assert (await next_message(ws))["notification"]["event"] == "order.created"


async def test_socket_without_credentials_is_closed_4401(ws_url: str) -> None:
    async with open_socket(ws_url) as ws:
        assert await close_code(ws) == 4401


async def test_bad_token_is_closed_4401(ws_url: str, accounts: Accounts) -> None:
    await accounts.vendor()
    async with open_socket(ws_url, token="not-a-real-token") as ws:
        assert await close_code(ws) == 4401


async def test_cookie_sent_by_another_sites_page_is_closed_4403(
    ws_url: str, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    headers = {"Cookie": f"vb_session={vendor.token}"}
    async with open_socket(ws_url, additional_headers=headers, origin="https://evil.example") as ws:
        assert await close_code(ws) == 4403


async def test_cookie_without_origin_is_closed_4403(ws_url: str, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    async with open_socket(
        ws_url, additional_headers={"Cookie": f"vb_session={vendor.token}"}
    ) as ws:
        assert await close_code(ws) == 4403


async def test_users_never_receive_each_others_events(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.vendor(), await accounts.vendor()
    customer = await accounts.customer()
    async with (
        open_socket(ws_url, token=alice.token) as alice_ws,
        open_socket(ws_url, token=bob.token) as bob_ws,
    ):
        placed = {alice.id: [], bob.id: []}
        for vendor in (alice, bob, alice, bob, bob, alice):
            placed[vendor.id].append((await place_order(client, customer, vendor))["id"])
        for vendor, ws in ((alice, alice_ws), (bob, bob_ws)):
            got = [(await next_message(ws))["notification"]["data"]["order_id"] for _ in range(3)]
            assert got == placed[vendor.id]
        # Nothing else is queued for either: the next message is a fresh one.
        await place_order(client, customer, alice)
        await place_order(client, customer, bob)
        assert (await next_message(alice_ws))["unread"] == 4
        assert (await next_message(bob_ws))["unread"] == 4


async def test_reconnect_with_since_replays_missed_notifications_then_live_ones(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with open_socket(ws_url, token=vendor.token) as ws:
        await place_order(client, customer, vendor)
        last_id = (await next_message(ws))["notification"]["id"]
    missed = [(await place_order(client, customer, vendor))["id"] for _ in range(5)]

    async with open_socket(f"{ws_url}?since={last_id}", token=vendor.token) as ws:
        replayed = [await next_message(ws) for _ in range(5)]
        live_order = await place_order(client, customer, vendor)
        live = await next_message(ws)

    assert [m["notification"]["data"]["order_id"] for m in replayed] == missed
    ids = [int(m["notification"]["id"]) for m in replayed]
    assert ids == sorted(ids) and min(ids) > int(last_id)
    assert replayed[-1]["unread"] == 6
    assert live["notification"]["data"]["order_id"] == live_order["id"]
    assert live["unread"] == 7


async def test_invalid_since_is_closed_4400(ws_url: str, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    async with open_socket(f"{ws_url}?since=abc", token=vendor.token) as ws:
        assert await close_code(ws) == 4400


async def test_mark_all_read_in_one_tab_sets_unread_to_zero_in_the_other(
    app: Any, ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with (
        open_socket(ws_url, token=vendor.token) as tab1,
        open_socket(ws_url, token=vendor.token) as tab2,
    ):
        # Subscribed before the handshake completed: nothing placed from here is missed.
        assert app.state.hub.local_count(int(vendor.id)) == 2
        await place_order(client, customer, vendor)
        await place_order(client, customer, vendor)
        for tab in (tab1, tab2):
            assert (await next_message(tab))["unread"] == 1
            assert (await next_message(tab))["unread"] == 2
        response = await client.post("/api/notifications/mark-all-read", headers=vendor.headers)
        assert response.json() == {"updated": 2}
        assert await next_message(tab2) == {"type": "counts", "unread": 0, "unseen": 0}
        assert await next_message(tab1) == {"type": "counts", "unread": 0, "unseen": 0}


@pytest.mark.parametrize("settings", [{"ws_ping_interval": 0.2}], indirect=True)
async def test_client_that_answers_pings_stays_and_a_silent_one_is_dropped(
    ws_url: str, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    async with (
        open_socket(ws_url, token=vendor.token) as silent,
        open_socket(ws_url, token=vendor.token) as alive,
    ):
        # `silent` never sends anything; `alive` answers each ping, like the PWA.
        for _ in range(4):
            await next_message(alive, "ping")
            await alive.send('{"type":"pong"}')
        assert await close_code(silent) == 1011
        assert alive.close_code is None


async def test_app_shutdown_closes_sockets_with_1001(
    app: Any, ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with open_socket(ws_url, token=vendor.token) as ws:
        await place_order(client, customer, vendor)
        await next_message(ws)  # subscribed
        await app.state.hub.close()  # what the app's lifespan does on shutdown
        assert await close_code(ws) == 1001


def test_token_in_the_handshake_log_line_is_redacted() -> None:
    # uvicorn's own line for each handshake, as it logs it through "uvicorn.error".
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:50000", "/ws/notifications?since=41&token=s3cret-t0ken"),
        None,
    )
    for handler_filter in logging.getLogger("uvicorn.error").filters:
        handler_filter.filter(record)
    line = record.getMessage()
    assert "s3cret-t0ken" not in line
    assert "/ws/notifications?since=41&token=[redacted]" in line


async def test_a_rolled_back_notification_never_reaches_the_tab(
    app: Any, ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with open_socket(ws_url, token=vendor.token) as ws:
        async with app.state.units.writer() as uow:
            await notify(
                uow,
                int(vendor.id),
                type="system",
                event="system.notice",
                title="Never",
                body="Rolled back",
                url="/notifications",
            )
            await uow.rollback()  # what the request's unit does on an error
        order = await place_order(client, customer, vendor)
        message = await next_message(ws)
    assert message["notification"]["data"]["order_id"] == order["id"]
    assert message["unread"] == 1


async def test_logging_out_closes_the_sockets_opened_with_that_token(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    login = await client.post(
        "/api/auth/login", json={"email": vendor.email, "password": vendor.password}
    )
    other_token = login.json()["token"]
    async with (
        open_socket(ws_url, token=vendor.token) as ws,
        open_socket(ws_url, token=other_token) as other,
    ):
        await place_order(client, customer, vendor)
        await next_message(ws)  # both subscribed
        await next_message(other)
        response = await client.post("/api/auth/logout", headers=vendor.headers)
        assert response.status_code == 204
        assert await close_code(ws) == 4401
        # The same vendor signed in elsewhere keeps its live channel.
        await place_order(client, customer, vendor)
        assert (await next_message(other))["notification"]["event"] == "order.created"


async def test_a_since_that_is_not_ascii_digits_closes_the_socket_4400(
    ws_url: str, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    for since in ["²", "٣"]:
        async with open_socket(f"{ws_url}?since={since}", token=vendor.token) as ws:
            assert await close_code(ws) == 4400


@pytest.mark.parametrize("settings", [{"ws_max_per_user": 2}], indirect=True)
async def test_a_socket_beyond_the_per_user_cap_is_refused_4429(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, other, customer = (
        await accounts.vendor(),
        await accounts.vendor(),
        await accounts.customer(),
    )
    async with (
        open_socket(ws_url, token=vendor.token) as first,
        open_socket(ws_url, token=vendor.token) as second,
        open_socket(ws_url, token=other.token) as others,
    ):
        await place_order(client, customer, vendor)
        await next_message(first)  # both subscribed
        await next_message(second)
        async with open_socket(ws_url, token=vendor.token) as third:
            assert await close_code(third) == 4429
        await place_order(client, customer, other)
        assert (await next_message(others))["type"] == "notification"  # other users unaffected


@pytest.mark.parametrize(
    ("line", "status"),
    [("GET /ws/notifications?x={} HTTP/1.1", b"414"), ("GET /ws/notifications HTTP/1.1", b"431")],
)
async def test_an_oversize_handshake_is_refused_at_once(
    ws_url: str, line: str, status: bytes
) -> None:
    host, port = ws_url.split("/")[2].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        line.format("a" * 10_000) + "\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    )
    head += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    if status == b"431":
        head += f"X-Big: {'b' * 10_000}\r\n"
    writer.write((head + "\r\n").encode())
    answer = await asyncio.wait_for(reader.read(), 5)  # the server answers and closes
    writer.close()
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
