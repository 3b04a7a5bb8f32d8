"""SIGTERM drains real processes: `python -m server run` answers /readyz 503 during its
notice, refuses new WebSocket upgrades, asks keep-alive clients to close, closes its
sockets with 1001 and exits 0; `python -m server worker` lets in-flight sends finish,
releases what it claimed but did not send, and exits 0. A request that arrives once the
server is stopping is answered 503 `shutting_down`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from websockets.exceptions import InvalidStatus

from server.core.config import Settings
from server.core.db import make_database
from server.ops.drain import Drain
from server.push.keys import KeyStore
from server.push.models import PushDelivery
from tests.conftest import Accounts
from tests.push.rows import queue_deliveries, statuses
from tests.pushservice import PushService
from tests.realtime.conftest import close_code, free_socket, open_socket

ROOT = Path(__file__).resolve().parents[2]


def spawn(settings: Settings, log: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "DATA_DIR": str(settings.data_dir),
        "KEYS_DIR": str(settings.keys_dir),
        "SECRET_KEY": settings.secret_key or "",
        "PUBLIC_URL": "http://testserver",
        "PUSH_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "WS_PING_INTERVAL": "0",
        **env,
    }
    environment.pop("REDIS_URL", None)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "server", *args],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def exit_code(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    async with asyncio.timeout(timeout):
        while (code := process.poll()) is None:
            await asyncio.sleep(0.05)
    return code


async def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base) as client, asyncio.timeout(30):
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def test_sigterm_makes_the_http_process_unready_then_close_sockets_and_exit_0(
    settings: Settings, tmp_path: Path
) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    base, log = f"http://127.0.0.1:{port}", tmp_path / "run.log"
    args = ("run", "--host", "127.0.0.1", "--port", str(port))
    process = spawn(settings, log, *args, DRAIN_NOTICE_SECONDS="1", DRAIN_SECONDS="2")
    try:
        await wait_ready(base, process, log)
        async with httpx.AsyncClient(base_url=base) as client:
            vendor = await Accounts(client).vendor()
            live = f"ws://127.0.0.1:{port}/ws/notifications"
            async with open_socket(live, token=vendor.token) as ws:
                process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.2)
                # During the notice the process still serves, and says it is going away.
                response = await client.get("/readyz")
                assert response.status_code == 503
                assert response.json()["code"] == "shutting_down"
                assert (await client.get("/healthz")).status_code == 200
                assert await close_code(ws) == 1001  # after the notice
        assert await exit_code(process) == 0, log.read_text()[-2000:]
    finally:
        process.kill()  # a no-op once it exited; reaped either way
        process.wait()


@pytest.fixture
async def draining(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A `run` process past its SIGTERM, in a 5 s notice: its base URL and a vendor's
    token (the keep-alive client used before the signal is not kept)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    base, log = f"http://127.0.0.1:{port}", tmp_path / "run.log"
    args = ("run", "--host", "127.0.0.1", "--port", str(port))
    process = spawn(settings, log, *args, DRAIN_NOTICE_SECONDS="5", DRAIN_SECONDS="2")
    try:
        await wait_ready(base, process, log)
        async with httpx.AsyncClient(base_url=base) as client:
            vendor = await Accounts(client).vendor()
        process.send_signal(signal.SIGTERM)
        async with httpx.AsyncClient(base_url=base) as client, asyncio.timeout(10):
            while (await client.get("/readyz")).status_code != 503:  # the signal was handled
                await asyncio.sleep(0.05)
        yield base, vendor.token
    finally:
        process.kill()
        process.wait()


async def test_a_draining_process_refuses_new_websocket_upgrades_with_503(
    draining: tuple[str, str],
) -> None:
    base, token = draining
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(f"{base.replace('http', 'ws')}/ws/notifications", token=token):
            pass
    response = refused.value.response
    assert response.status_code == 503
    assert json.loads(response.body)["code"] == "shutting_down"
    assert response.headers["Retry-After"] == "1"


async def test_a_draining_process_asks_keep_alive_clients_to_close_their_connection(
    draining: tuple[str, str],
) -> None:
    base, token = draining
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200  # during the notice the process still serves
    assert response.headers["connection"] == "close"


async def test_a_request_arriving_once_the_server_is_stopping_is_503_shutting_down(
    app: Any,
) -> None:
    """Between the signal being handed to uvicorn and uvicorn closing its idle
    keep-alive connections, a request can still arrive on one: answered, not dropped."""
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/api/vendors")).status_code == 200  # kept alive
            drain: Drain = app.state.drain
            drain.draining = drain.stopping = True  # what the handed-on signal leaves
            late = await client.get("/api/vendors")
            health = await client.get("/healthz")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
    assert late.status_code == 503
    assert late.json()["code"] == "shutting_down"
    assert late.headers["connection"] == "close"
    assert late.headers["retry-after"] == "1"
    assert health.status_code == 200


async def leased(settings: Settings) -> int:
    database = make_database(settings)
    async with database.reader() as session:
        count = await session.scalar(
            select(func.count()).where(PushDelivery.leased_by.is_not(None))
        )
    await database.dispose()
    return int(count or 0)


async def test_sigterm_lets_the_worker_finish_its_sends_and_release_the_rest(
    settings: Settings, push_service: PushService, tmp_path: Path
) -> None:
    keys = KeyStore.load_or_create(settings)
    await queue_deliveries(settings, push_service, keys.current.kid, total=40, devices=4)
    push_service.gate = asyncio.Event()  # pushes wait for an answer: sends stay in flight
    log = tmp_path / "worker.log"
    env = {"WORKER_CONCURRENCY": "4", "PUSH_ENCRYPT_PROCESSES": "0", "DRAIN_SECONDS": "5"}
    process = spawn(settings, log, "worker", **env)
    try:
        async with asyncio.timeout(30):
            while sum(push_service.requests.values()) < 4:
                assert process.poll() is None, log.read_text()[-2000:]
                await asyncio.sleep(0.05)
        assert await leased(settings) > 4  # claimed beyond what is in flight
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        push_service.gate.set()  # the sends in flight are answered during the drain
        assert await exit_code(process) == 0, log.read_text()[-2000:]
    finally:
        process.kill()  # a no-op once it exited; reaped either way
        process.wait()
    sent = len(push_service.received)
    assert sent >= 4
    assert await statuses(settings) == {"delivered": sent, "queued": 40 - sent}
    assert await leased(settings) == 0  # the unsent rows are anyone's again
