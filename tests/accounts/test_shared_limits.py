"""With REDIS_URL the sign-up and sign-in limits hold across processes; without an
answering Redis they fall back to the process's own counts, never to a 500."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from server.accounts.limits import Limits
from server.app import create_app
from server.core.config import Settings
from tests.conftest import make_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str, channel: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        redis_url=redis_url,
        redis_channel=channel,
        register_max_per_window=3,
    )


@pytest.fixture
async def clients(settings: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two app instances (as two API processes) on one database and one Redis."""
    async with AsyncExitStack() as stack:
        result = []
        for _ in range(2):
            app = create_app(settings.model_copy(update={"role": "api"}))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            result.append(await stack.enter_async_context(client))
        yield result


def _body(n: int) -> dict[str, str]:
    return {
        "email": f"shared{n}@example.com",
        "password": PASSWORD,
        "name": f"S{n}",
        "role": "vendor",
    }


@pytest.mark.redis
async def test_two_instances_share_one_sign_up_budget(clients: list[httpx.AsyncClient]) -> None:
    first, second = clients
    for n, client in enumerate([first, second, first]):
        assert (await client.post("/api/auth/register", json=_body(n))).status_code == 201
    blocked = await second.post("/api/auth/register", json=_body(3))
    assert blocked.status_code == 429, "the second process allowed a fourth sign-up"
    assert blocked.json()["code"] == "register_rate_limited"


@pytest.mark.redis
async def test_two_instances_share_one_sign_in_budget(clients: list[httpx.AsyncClient]) -> None:
    first, second = clients
    assert (await first.post("/api/auth/register", json=_body(0))).status_code == 201
    wrong = {"email": "shared0@example.com", "password": "wrong pass"}
    for client in [first, second, first, second, first]:
        assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
    right = {**wrong, "password": PASSWORD}
    blocked = await second.post("/api/auth/login", json=right)
    assert blocked.status_code == 429, "failures on the other process were not counted"
    assert blocked.json()["code"] == "login_rate_limited"
    assert 0 < int(blocked.headers["retry-after"]) <= 300


@pytest.mark.redis
async def test_an_account_registered_on_one_instance_is_new_on_the_other(
    clients: list[httpx.AsyncClient],
) -> None:
    """What others failed from its address does not lock out a fresh account elsewhere."""
    first, second = clients
    for n in range(5):
        wrong = {"email": f"nobody{n}@example.com", "password": "wrong pass"}
        assert (await second.post("/api/auth/login", json=wrong)).status_code == 401
    assert (await first.post("/api/auth/register", json=_body(9))).status_code == 201
    right = {"email": "shared9@example.com", "password": PASSWORD}
    signed_in = await second.post("/api/auth/login", json=right)
    assert signed_in.status_code == 200, "the other process did not know the account is new"


async def _silent_server() -> tuple[asyncio.Server, int]:
    """A TCP server that accepts and never answers: a Redis that hangs."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("redis", ["refused", "silent"])
async def test_limits_count_locally_while_redis_does_not_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, redis: str
) -> None:
    server: Any = None
    if redis == "silent":
        server, port = await _silent_server()
    else:
        port = _closed_port()
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        redis_url=f"redis://127.0.0.1:{port}/0",
        login_max_attempts=2,
    )
    limits = Limits(settings)
    await limits.start()
    keys = ["account:a@example.com"]
    try:
        with caplog.at_level(logging.WARNING, logger="vendorbell.accounts"):
            async with asyncio.timeout(10):  # each Redis call is bounded well below this
                assert await limits.login.retry_after(keys) is None
                await limits.login.hit(keys)
                await limits.login.hit(keys)
                assert await limits.login.retry_after(keys) is not None
                await limits.login.clear(keys[0])
                assert await limits.login.retry_after(keys) is None
    finally:
        await limits.close()
        if server is not None:
            server.close()
            await server.wait_closed()
    assert "accounts.limits.redis_unavailable" in caplog.text


class Forwarder:
    """A TCP hop in front of the real Redis that can be cut and restored, as a network
    partition would."""

    def __init__(self, redis_url: str) -> None:
        where = urlsplit(redis_url)
        self.target = (where.hostname or "127.0.0.1", where.port or 6379)
        self.port = _closed_port()
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await asyncio.sleep(0.05)  # the closes reach the client


@pytest.mark.redis
async def test_limits_count_in_redis_again_once_it_answers(
    tmp_path: Path,
    redis_url: str,
    channel: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("server.accounts.limits._REST", 0.2)
    forwarder = Forwarder(redis_url)
    await forwarder.restore()
    database = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    common = {"redis_channel": channel, "login_max_attempts": 2}
    through = Limits(
        make_settings(
            tmp_path, database, redis_url=f"redis://127.0.0.1:{forwarder.port}/0", **common
        )
    )
    direct = Limits(make_settings(tmp_path, database, redis_url=redis_url, **common))
    await through.start()
    await direct.start()
    keys = ["account:a@example.com"]
    try:
        with caplog.at_level(logging.INFO, logger="vendorbell.accounts"):
            async with asyncio.timeout(10):
                assert await through.login.retry_after(keys) is None  # connected
                await forwarder.cut()
                await through.login.hit(keys)  # counted here only
                assert "accounts.limits.redis_unavailable" in caplog.text
                await forwarder.restore()
                await asyncio.sleep(0.3)  # past the rest
                await through.login.hit(keys)  # in Redis again
                await direct.login.hit(keys)
                assert "accounts.limits.redis_back" in caplog.text
                assert await direct.login.retry_after(keys) is not None, "not shared again"
    finally:
        await through.close()
        await direct.close()
        await forwarder.cut()
