"""Outages are answered, not crashed: real servers, real sockets, real outages.

PostgreSQL goes down behind a loopback TCP proxy (tests/tcpproxy.py) that drops every
connection and refuses new ones (or, blackholed, never answers them). During the outage
every request needing the database is answered `503 {"detail", "code": "unavailable"}`
with Retry-After, on a connection that stays open, and /readyz is 503; after it, the
same requests succeed and nothing committed before is lost. SQLite running out of room:
tests/db/test_sqlite_full.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.app import create_app
from tests.api.test_openapi_errors import assert_conforms, openapi
from tests.conftest import PG_URL, Account, Accounts, make_settings, order_body, place_order
from tests.ops.conftest import served
from tests.tcpproxy import TcpProxy

TIMEOUT = 20.0  # seconds, for any one answer: the database's own bounds are shorter


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": response.json()["detail"],
        "code": "unavailable",
    }, response.text
    assert int(response.headers["retry-after"]) > 0


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    if not PG_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
def proxied_url(proxy: TcpProxy, database_url: str) -> str:
    """The test's PostgreSQL database, reached through the proxy."""
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


@pytest.fixture
async def pg_base(tmp_path: Path, proxied_url: str) -> AsyncIterator[str]:
    app = create_app(make_settings(tmp_path, proxied_url))
    async with app.router.lifespan_context(app), served(app) as base:
        yield base


def signed_in_requests(
    customer: Account, vendor: Account, order_id: str
) -> list[tuple[str, str, dict[str, Any], int]]:
    """Reads and writes of both roles, and the answer each gets while the database is
    down: 503, or the ordinary answer when the process needs no database for it."""
    as_customer: dict[str, Any] = {"headers": customer.headers}
    as_vendor: dict[str, Any] = {"headers": vendor.headers}
    login = {"email": vendor.email, "password": vendor.password}
    return [
        ("GET", "/api/me", as_customer, 200),  # the signed-in user is cached
        ("GET", "/api/notifications", as_vendor, 503),
        ("GET", "/api/notifications/count", as_vendor, 503),
        ("POST", "/api/notifications/mark-all-read", as_vendor, 503),
        ("GET", f"/api/orders/{order_id}", as_customer, 503),
        ("POST", "/api/orders", {**as_customer, "json": order_body(vendor.id)}, 503),
        ("POST", f"/api/orders/{order_id}/accept", as_vendor, 503),
        ("GET", "/api/preferences", as_vendor, 503),
        ("GET", "/api/vendors", {}, 503),
        ("POST", "/api/auth/login", {"json": login}, 503),
        ("POST", "/api/orders", {**as_customer, "content": b"{"}, 422),  # not JSON
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_postgres_outage_is_answered_503_unavailable_and_then_served_again(
    pg_base: str, proxy: TcpProxy
) -> None:
    async with httpx.AsyncClient(base_url=pg_base, timeout=TIMEOUT) as client:
        accounts = Accounts(client)
        vendor, customer = await accounts.vendor(), await accounts.customer()
        before = await place_order(client, customer, vendor)
        requests = signed_in_requests(customer, vendor, before["id"])
        document = await openapi(client)
        await proxy.cut()
        try:
            for method, path, kwargs, during in requests:
                response = await client.request(method, path, **kwargs)
                assert response.status_code == during, (method, path, response.text)
                if during == 503:
                    assert_unavailable(response)
                template = path.replace(before["id"], "{order_id}")
                assert_conforms(document, method, template, response)
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["code"] == "not_ready"
            assert ready.json()["checks"] == {"database": "failed"}
            assert int(ready.headers["retry-after"]) > 0
        finally:
            await proxy.restore()
        for method, path, kwargs, _ in requests:
            response = await client.request(method, path, **kwargs)
            assert response.status_code < 500, (method, path, response.text)
        assert await readiness_after(client) == 200
        kept = await client.get(f"/api/orders/{before['id']}", headers=customer.headers)
        assert kept.status_code == 200 and kept.json()["status"] == "accepted"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_database_whose_packets_vanish_is_answered_503_not_waited_for(
    pg_base: str, proxy: TcpProxy
) -> None:
    """Connections accepted and never answered (a dead host, a firewall): the connect
    timeout ends the wait (asyncpg's own default is 60 s, past any client's patience)."""
    async with httpx.AsyncClient(base_url=pg_base, timeout=TIMEOUT) as client:
        vendor = await Accounts(client).vendor()
        await proxy.cut("blackhole")
        try:
            response = await client.get("/api/notifications/count", headers=vendor.headers)
        finally:
            await proxy.restore()
        assert_unavailable(response)
        served_again = await client.get("/api/notifications/count", headers=vendor.headers)
        assert served_again.status_code == 200


async def readiness_after(client: httpx.AsyncClient, seconds: float = 3.0) -> int:
    """/readyz's status once its cached checks (1 s) have had time to be redone."""
    async with asyncio.timeout(seconds):
        while (status := (await client.get("/readyz")).status_code) != 200:
            await asyncio.sleep(0.1)
    return status


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_outage_answer_leaves_the_kept_alive_connection_open(
    pg_base: str, proxy: TcpProxy
) -> None:
    """A client reusing its connection after a failed request gets an answer, not a
    closed socket (uvicorn closed it when the application raised)."""
    async with httpx.AsyncClient(base_url=pg_base, timeout=TIMEOUT) as client:
        vendor = await Accounts(client).vendor()
    host, port = pg_base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    request = (
        "GET /api/notifications/count HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: Bearer {vendor.token}\r\n\r\n"
    ).encode()
    await proxy.cut()
    try:
        for _ in range(3):
            writer.write(request)
            status, headers, body = await read_answer(reader)
            assert status == 503 and json.loads(body)["code"] == "unavailable"
            assert b"connection: close" not in headers.lower()
    finally:
        writer.close()
        await proxy.restore()


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    async with asyncio.timeout(TIMEOUT):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await reader.readexactly(length)
    return int(head.split(b" ", 2)[1]), head, body


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_websocket_handshake_during_an_outage_is_closed_1013(
    pg_base: str, proxy: TcpProxy
) -> None:
    async with httpx.AsyncClient(base_url=pg_base, timeout=TIMEOUT) as client:
        vendor, customer = await Accounts(client).vendor(), await Accounts(client).customer()
        url = pg_base.replace("http://", "ws://") + f"/ws/notifications?token={vendor.token}"
        await proxy.cut()
        try:
            async with connect(url, open_timeout=TIMEOUT) as socket:
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(socket.recv(), TIMEOUT)
                assert socket.close_code == 1013
        finally:
            await proxy.restore()
        async with connect(url, open_timeout=TIMEOUT) as socket:  # served again
            await place_order(client, customer, vendor)
            async with asyncio.timeout(TIMEOUT):
                while json.loads(await socket.recv())["type"] != "notification":
                    pass
