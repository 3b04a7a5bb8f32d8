"""Whose address a limit counts, as `python -m server run` decides it: the connection's
own, unless FORWARDED_ALLOW_IPS names the proxy that sent X-Forwarded-For.

A real process, since uvicorn (not the app) reads the header.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from server.core.config import Settings
from tests.cluster import Cluster

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """Start one `run --role api` process on a fresh SQLite file, with extra settings."""
    clusters: list[Cluster] = []

    async def started(**env: str) -> str:
        workdir = tmp_path / f"p{len(clusters)}"
        workdir.mkdir()
        database = f"sqlite+aiosqlite:///{workdir / 'vendorbell.db'}"
        cluster = Cluster(database, None, workdir, extra_env={"LOGIN_MAX_ATTEMPTS": "3", **env})
        clusters.append(cluster)
        await asyncio.to_thread(cluster.migrate)
        return await asyncio.to_thread(cluster.start_api, "api")

    try:
        yield started
    finally:
        for cluster in clusters:
            await asyncio.to_thread(cluster.close)


async def failed_login(client: httpx.AsyncClient, n: int, forwarded_for: str) -> int:
    """A wrong password for a made-up account (each its own), "from" `forwarded_for`."""
    response = await client.post(
        "/api/auth/login",
        json={"email": f"nobody{n}@example.com", "password": "wrong pass"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


async def test_rotating_x_forwarded_for_does_not_reset_the_limit_by_default(
    start: Callable[..., object],
) -> None:
    url = await start()  # type: ignore[misc]
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for n in range(3):
            assert await failed_login(client, n, f"203.0.113.{n + 1}") == 401
        # The header is ignored: every attempt came from 127.0.0.1, which is now locked.
        assert await failed_login(client, 3, "203.0.113.99") == 429


async def test_a_trusted_proxys_forwarded_address_is_the_one_counted(
    start: Callable[..., object],
) -> None:
    url = await start(FORWARDED_ALLOW_IPS="127.0.0.1")  # type: ignore[misc]
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for n in range(3):
            assert await failed_login(client, n, "203.0.113.7") == 401
        assert await failed_login(client, 3, "203.0.113.7") == 429
        assert await failed_login(client, 4, "198.51.100.2") == 401, "another client is locked"
        # And a session started through the proxy records the client's address.
        body = {"email": "a@example.com", "password": PASSWORD, "name": "A", "role": "vendor"}
        headers = {"X-Forwarded-For": "198.51.100.3"}
        created = await client.post("/api/auth/register", json=body, headers=headers)
        assert created.status_code == 201, created.text
        bearer = {"Authorization": f"Bearer {created.json()['token']}"}
        [session] = (await client.get("/api/me/sessions", headers=bearer)).json()
        assert session["client_address"] == "198.51.100.3"


def test_forwarded_allow_ips_takes_addresses_and_networks_only() -> None:
    settings = Settings(_env_file=None, forwarded_allow_ips="10.0.0.0/8, 127.0.0.1,::1")  # type: ignore[call-arg]
    assert settings.forwarded_allow_ips == ["10.0.0.0/8", "127.0.0.1", "::1"]
    assert Settings(_env_file=None).forwarded_allow_ips == []  # type: ignore[call-arg]
    for wrong in ("nginx", "*", "127.0.0.1,proxy.local"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, forwarded_allow_ips=wrong)  # type: ignore[call-arg]
