"""Outages are answered, not crashed: real servers, real sockets, real outages.

PostgreSQL goes down behind a loopback TCP proxy (tests/tcpproxy.py) that drops every
connection and refuses new ones; SQLite runs out of room (see each test). During the
outage every request needing the database is answered `503 {"detail", "code":
"unavailable"}` with Retry-After, on a connection that stays open, and /readyz is 503;
after it, the same requests succeed and nothing committed before is lost.
"""

from __future__ import annotations

import asyncio
import errno
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, make_url, text
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


# -- SQLite out of room ----------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "full.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


class PageLimit:
    """`PRAGMA max_page_count` on every connection the app's write engine hands out:
    past it SQLite answers SQLITE_FULL, "database or disk is full", the very result a
    full disk gives (a small filesystem of our own needs root: see the tmpfs test)."""

    UNLIMITED = 4294967294

    def __init__(self, app: Any) -> None:
        self.engine = app.state.db.engine.sync_engine
        self.pages = self.UNLIMITED
        event.listen(self.engine, "checkout", self._apply)

    def _apply(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={self.pages}")
        cursor.close()

    async def fill(self, app: Any) -> None:
        async with app.state.db.reader() as session:
            self.pages = int((await session.execute(text("PRAGMA page_count"))).scalar_one())

    def lift(self) -> None:
        self.pages = self.UNLIMITED

    def remove(self) -> None:
        event.remove(self.engine, "checkout", self._apply)


@pytest.fixture
async def sqlite_app(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Any]:
    app = create_app(make_settings(tmp_path, sqlite_url))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def page_limit(sqlite_app: Any) -> Iterator[PageLimit]:
    limit = PageLimit(sqlite_app)
    yield limit
    limit.remove()


async def test_a_full_sqlite_database_answers_writes_503_and_readyz_503_until_room_is_made(
    sqlite_app: Any, page_limit: PageLimit
) -> None:
    async with (
        served(sqlite_app) as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client,
    ):
        accounts = Accounts(client)
        vendor, customer = await accounts.vendor(), await accounts.customer()
        before = await place_order(client, customer, vendor)
        await page_limit.fill(sqlite_app)
        answers = []
        for _ in range(200):  # the pages' free room goes first
            response = await client.post(
                "/api/orders", json=order_body(vendor.id), headers=customer.headers
            )
            answers.append(response.status_code)
            if response.status_code != 201:
                assert_unavailable(response)
                break
        assert answers[-1] == 503, answers
        assert (await client.get("/readyz")).status_code == 503
        reads = await client.get(f"/api/orders/{before['id']}", headers=customer.headers)
        assert reads.status_code == 200  # reading needs no room
        page_limit.lift()
        after = await client.post(
            "/api/orders", json=order_body(vendor.id), headers=customer.headers
        )
        assert after.status_code == 201, after.text
        assert await readiness_after(client) == 200
        mine = await client.get("/api/orders", headers=customer.headers)
        ids = {order["id"] for order in mine.json()}
        assert before["id"] in ids and after.json()["id"] in ids
        assert len(ids) == answers.count(201) + 2  # every order answered 201 was kept


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of our own: a disk that really fills (needs root to mount)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace')}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros until the disk refuses them (ENOSPC)."""
    filler = folder / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(bytes(64 * 1024))
                file.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


async def test_readyz_sees_a_really_full_disk_before_any_write_fails(
    tmp_path: Path, sqlite_template: Path, small_disk: Path
) -> None:
    path = small_disk / "vendorbell.db"
    path.write_bytes(sqlite_template.read_bytes())
    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{path}"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        customer, vendor = await Accounts(client).customer(), await Accounts(client).vendor()
        assert (await client.get("/readyz")).status_code == 200
        filler = fill(small_disk)
        await asyncio.sleep(1.0)  # the last round of checks is reused for 1 s
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"database": "failed"}
        for _ in range(50):  # what room the WAL had left is used up first
            order = await client.post(
                "/api/orders", json=order_body(vendor.id), headers=customer.headers
            )
            if order.status_code != 201:
                assert_unavailable(order)
                break
        else:
            pytest.fail("every write succeeded on a full disk")
        filler.unlink()
        order = await client.post(
            "/api/orders", json=order_body(vendor.id), headers=customer.headers
        )
        assert order.status_code == 201, order.text
        assert await readiness_after(client) == 200
