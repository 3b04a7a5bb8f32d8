"""Each ping re-checks the socket's token against the database: a logout that never
reached this process (the other one had no Redis) and a token past its absolute
lifetime end the socket with 4401 within about one ping interval."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from server.accounts.models import ApiToken
from server.core.db import utcnow
from tests.conftest import Accounts
from tests.realtime.conftest import open_socket
from tests.realtime.test_redis import start_process, wait_ready

BOUND = 5.0  # seconds, for a ping interval of 0.3-0.5 s


async def close_code_answering_pings(ws: ClientConnection) -> int | None:
    """Answer pings as the PWA does (a silent client is closed 1011) until the server
    closes the socket; its close code."""
    async with asyncio.timeout(BOUND):
        try:
            while True:
                if json.loads(await ws.recv()).get("type") == "ping":
                    await ws.send('{"type":"pong"}')
        except ConnectionClosed:
            return ws.close_code


@pytest.mark.parametrize("settings", [{"ws_ping_interval": 0.3}], indirect=True)
async def test_a_socket_whose_token_passes_its_absolute_lifetime_is_closed_4401(
    app: Any, ws_url: str, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    async with open_socket(ws_url, token=vendor.token) as ws:
        lifetime = timedelta(days=app.state.settings.token_absolute_days)
        async with app.state.db.writer() as session:
            await session.execute(
                update(ApiToken).values(created_at=utcnow() - lifetime - timedelta(minutes=1))
            )
            await session.commit()
        assert await close_code_answering_pings(ws) == 4401


@pytest.mark.redis
async def test_a_logout_through_a_process_without_redis_closes_the_socket_on_another(
    tmp_path: Path, database_url: str, redis_url: str, channel: str
) -> None:
    a = start_process(tmp_path, "a", database_url, None, channel)
    b = start_process(tmp_path, "b", database_url, redis_url, channel, WS_PING_INTERVAL="0.5")
    try:
        await wait_ready(a)
        await wait_ready(b)
        async with httpx.AsyncClient(base_url=a.http) as client:
            vendor = await Accounts(client).vendor()
            async with open_socket(b.ws, token=vendor.token) as ws:
                response = await client.post("/api/auth/logout", headers=vendor.headers)
                assert response.status_code == 204
                assert await close_code_answering_pings(ws) == 4401
    finally:
        for process in (a, b):
            process.popen.terminate()
        for process in (a, b):
            process.popen.wait(timeout=15)
