"""A live uvicorn server around the test app, and WebSocket helpers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from server.core.config import Settings
from server.realtime.handshake import WebSocketProtocol
from tests.conftest import make_settings

TIMEOUT = 5.0


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    """Pings off unless a test asks for them (`parametrize("settings", [{...}], indirect=True)`)."""
    overrides: dict[str, Any] = {"ws_ping_interval": 0, **getattr(request, "param", {})}
    return make_settings(tmp_path, database_url, **overrides)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def ws_url(app: Any) -> AsyncIterator[str]:
    """The app (lifespan already running) served by uvicorn on a free port, in this loop."""
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", ws_ping_interval=None, ws=WebSocketProtocol
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}/ws/notifications"
    server.should_exit = True
    await task
    sock.close()


def open_socket(url: str, *, token: str | None = None, **kwargs: Any) -> Any:
    if token is not None:
        url = f"{url}{'&' if '?' in url else '?'}token={token}"
    return connect(url, open_timeout=TIMEOUT, **kwargs)


async def next_message(ws: ClientConnection, *types: str) -> dict[str, Any]:
    """The next message of one of `types` (pings are skipped)."""
    wanted = types or ("notification", "counts")
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if message["type"] in wanted:
            return message


async def close_code(ws: ClientConnection) -> int | None:
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    return ws.close_code
