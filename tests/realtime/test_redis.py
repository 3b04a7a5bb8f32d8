"""Several web processes sharing Redis: an event reaches whichever process holds the socket."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.realtime.redis_hub import RedisHub
from tests.conftest import Accounts, order_body
from tests.realtime.conftest import close_code, free_socket, next_message, open_socket
from tests.realtime.test_connection import StubSocket

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.redis


async def test_event_published_on_one_hub_reaches_sockets_on_another(
    redis_url: str, channel: str
) -> None:
    from server.realtime.connection import Connection

    hub_a, hub_b = RedisHub(redis_url, channel), RedisHub(redis_url, channel)
    await hub_a.start()
    await hub_b.start()
    try:
        sockets = {user: StubSocket() for user in (1, 2)}
        connections = [
            Connection(sock, user, "digest", max_queue=8, ping_interval=0)  # type: ignore[arg-type]
            for user, sock in sockets.items()
        ]
        for connection in connections:
            await hub_b.subscribe(connection)
        runs = [asyncio.create_task(c.run()) for c in connections]
        await hub_a.publish(1, {"type": "counts", "unread": 1, "unseen": 1})
        await hub_a.broadcast({"type": "notice"})
        await hub_a.publish(1, {"type": "counts", "unread": 2, "unseen": 2})
        async with asyncio.timeout(5):
            while len(sockets[1].sent) < 3:
                await asyncio.sleep(0.01)
        assert sockets[1].sent == [
            '{"type":"counts","unread":1,"unseen":1}',
            '{"type":"notice"}',
            '{"type":"counts","unread":2,"unseen":2}',
        ]
        assert sockets[2].sent == ['{"type":"notice"}']
    finally:
        await hub_b.close()
        await hub_a.close()
    await asyncio.wait_for(asyncio.gather(*runs), 5)
    assert {s.closed_with for s in sockets.values()} == {1001}


async def test_a_hub_that_does_not_listen_publishes_and_subscribes_to_nothing(
    redis_url: str, channel: str
) -> None:
    """The worker role's hub: its events reach the others, none of theirs reach it."""
    from server.realtime.connection import Connection

    worker, web = RedisHub(redis_url, channel, listen=False), RedisHub(redis_url, channel)
    await worker.start()
    await web.start()
    try:
        assert web.subscribed and not worker.subscribed
        sock = StubSocket()
        connection = Connection(sock, 1, "digest", max_queue=8, ping_interval=0)  # type: ignore[arg-type]
        await web.subscribe(connection)
        run = asyncio.create_task(connection.run())
        await worker.publish(1, {"type": "counts", "unread": 1, "unseen": 1})
        async with asyncio.timeout(5):
            while not sock.sent:
                await asyncio.sleep(0.01)
        assert sock.sent == ['{"type":"counts","unread":1,"unseen":1}']
        subscribers = await worker._redis.execute_command("PUBSUB", "NUMSUB", channel)
        assert subscribers[1] == 1  # the web process's subscription only
    finally:
        await web.close()
        await worker.close()
    await asyncio.wait_for(run, 5)


class Process:
    def __init__(self, popen: subprocess.Popen[bytes], port: int) -> None:
        self.popen, self.port = popen, port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}/ws/notifications"


def start_process(
    tmp: Path, name: str, database_url: str, redis_url: str | None, channel: str, **extra: str
) -> Process:
    """`uvicorn server.app:create_app` (without REDIS_URL when `redis_url` is None)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "",
        "REDIS_CHANNEL": channel,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "PUBLIC_URL": "http://testserver",
        "RUN_WORKER": "false",
        "PUSH_ALLOWED_HOSTS": "127.0.0.1",
        "DATA_DIR": str(tmp / name / "data"),
        "KEYS_DIR": str(tmp / name / "keys"),
        "WS_PING_INTERVAL": "0",
        **extra,
    }
    if redis_url is None:
        del env["REDIS_URL"]
    command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    popen = subprocess.Popen(command, cwd=ROOT, env=env)
    return Process(popen, port)


async def wait_ready(process: Process) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(30):
        while True:
            assert process.popen.poll() is None, "the server process exited"
            try:
                if (await client.get(f"{process.http}/api/vendors")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


@pytest.fixture
async def two_processes(
    tmp_path: Path, database_url: str, redis_url: str, channel: str
) -> AsyncIterator[tuple[Process, Process]]:
    """Two uvicorn processes on one database (SQLite file or PostgreSQL) and one Redis."""
    processes = [
        start_process(tmp_path, name, database_url, redis_url, channel) for name in ("a", "b")
    ]
    try:
        for process in processes:
            await wait_ready(process)
        yield processes[0], processes[1]
    finally:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in processes:
            process.popen.wait(timeout=15)


async def test_order_placed_through_one_process_reaches_a_socket_on_the_other(
    two_processes: tuple[Process, Process],
) -> None:
    a, b = two_processes
    async with httpx.AsyncClient(base_url=a.http) as client:
        accounts = Accounts(client)
        vendor, customer = await accounts.vendor(), await accounts.customer()
        async with open_socket(b.ws, token=vendor.token) as ws:
            response = await client.post(
                "/api/orders", json=order_body(vendor.id), headers=customer.headers
            )
            assert response.status_code == 201
            message = await next_message(ws)
    assert message["notification"]["data"]["order_id"] == response.json()["id"]
    assert message["unread"] == 1


@pytest.mark.parametrize(("action", "code"), [("sigterm", 1001), ("logout", 4401)])
async def test_a_socket_held_by_one_process_closes_on_its_sigterm_or_a_logout_elsewhere(
    two_processes: tuple[Process, Process], action: str, code: int
) -> None:
    """SIGTERM: 1001 (going away). Logging out through the other process: 4401."""
    a, b = two_processes
    async with httpx.AsyncClient(base_url=a.http) as client:
        accounts = Accounts(client)
        vendor, customer = await accounts.vendor(), await accounts.customer()
        async with open_socket(b.ws, token=vendor.token) as ws:
            await client.post("/api/orders", json=order_body(vendor.id), headers=customer.headers)
            await next_message(ws)  # connected and subscribed
            if action == "sigterm":
                b.popen.send_signal(signal.SIGTERM)
            else:
                response = await client.post("/api/auth/logout", headers=vendor.headers)
                assert response.status_code == 204
            assert await close_code(ws) == code
