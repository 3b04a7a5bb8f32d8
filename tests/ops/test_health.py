"""/healthz and /readyz: what a load balancer or an orchestrator's probes see."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from server.core.db import Database
from server.ops.drain import Drain
from server.ops.health import run_checks
from server.realtime.redis_hub import RedisHub
from tests.api.test_openapi_errors import assert_conforms, openapi


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once closed


async def test_healthz_answers_ok_without_sign_in_and_is_not_cached(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    assert_conforms(await openapi(client), "GET", "/healthz", response)


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["cache-control"] == "no-store"
    assert_conforms(await openapi(client), "GET", "/readyz", response)


async def test_readyz_is_503_not_ready_when_the_database_does_not_answer(
    app: Any, client: httpx.AsyncClient
) -> None:
    working = app.state.db
    app.state.db = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{closed_port()}/none")
    try:
        response = await client.get("/readyz")
    finally:
        await app.state.db.dispose()
        app.state.db = working
    assert response.status_code == 503
    assert response.json() == {
        "detail": "Not ready: database failed its check.",
        "code": "not_ready",
        "checks": {"database": "failed"},
    }
    assert_conforms(await openapi(client), "GET", "/readyz", response)
    assert (await client.get("/healthz")).status_code == 200  # the process itself is up


async def test_readyz_is_503_shutting_down_while_the_process_drains(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.drain.draining = True  # what SIGTERM does (see the tests of Drain below)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "shutting_down"
    assert response.json()["checks"] == {"database": "ok"}
    assert_conforms(await openapi(client), "GET", "/readyz", response)


@pytest.mark.redis
async def test_readyz_checks_redis_when_it_is_configured(app: Any, redis_url: str) -> None:
    hub = RedisHub(redis_url, f"vendorbell:test:{uuid.uuid4().hex}")
    await hub.start()
    try:
        checks = await run_checks(app.state.db, hub, redis=True)
    finally:
        await hub.close()
    assert checks == {"database": "ok", "redis": "ok"}


# -- Drain: the signal hook behind `shutting_down` -------------------------------------


@pytest.fixture
def passed_on() -> Iterator[list[int]]:
    """SIGTERM handled by a recorder standing in for uvicorn's handler."""
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda sig, frame: received.append(sig))
    yield received
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture
async def drain(request: pytest.FixtureRequest) -> AsyncIterator[Drain]:
    hook = Drain(notice_seconds=request.param)
    hook.install()
    yield hook
    hook.uninstall()


async def until(condition: Any, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("drain", [0.0], indirect=True)
async def test_without_a_notice_sigterm_marks_draining_and_passes_on_at_once(
    passed_on: list[int], drain: Drain
) -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: passed_on)
    assert drain.draining
    assert passed_on == [signal.SIGTERM]


@pytest.mark.parametrize("drain", [0.3], indirect=True)
async def test_with_a_notice_sigterm_reaches_the_server_only_after_it(
    passed_on: list[int], drain: Drain
) -> None:
    loop = asyncio.get_running_loop()
    os.kill(os.getpid(), signal.SIGTERM)
    start = loop.time()
    await until(lambda: drain.draining)
    await until(lambda: passed_on)
    assert loop.time() - start >= 0.25
    await asyncio.sleep(0.4)
    assert passed_on == [signal.SIGTERM]  # once


@pytest.mark.parametrize("drain", [30.0], indirect=True)
async def test_a_second_sigterm_skips_the_notice(passed_on: list[int], drain: Drain) -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: drain.draining)
    await asyncio.sleep(0.05)
    assert passed_on == []
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: passed_on)
    assert passed_on == [signal.SIGTERM]


@pytest.mark.parametrize("drain", [30.0], indirect=True)
async def test_uninstall_gives_the_signal_back(passed_on: list[int], drain: Drain) -> None:
    drain.uninstall()
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: passed_on)
    assert not drain.draining


async def test_a_storm_of_readiness_probes_checks_the_database_once(
    app: Any, client: httpx.AsyncClient
) -> None:
    statements: list[str] = []
    engine = app.state.db.read_engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(50)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert {answer.status_code for answer in answers} == {200}
    assert statements.count("SELECT 1") == 1
