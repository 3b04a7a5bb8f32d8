"""What an exception escaping a route becomes (server.core.outages): the errors real
outages raise are told from bugs; a bug is `500 {"detail", "code": "internal"}`, logged
with its traceback; every operation declares the outage's 503."""

from __future__ import annotations

import errno
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from server.core.outages import AnswerErrorsMiddleware, WriteOutcomes, is_outage
from tests.api.test_openapi_errors import openapi


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def raised(action: Any) -> BaseException:
    try:
        await action()
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


async def test_postgresql_refusing_connections_is_an_outage() -> None:
    engine = create_async_engine(
        f"postgresql+asyncpg://nobody@127.0.0.1:{closed_port()}/none",
        connect_args={"timeout": 2},
    )

    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        assert is_outage(await raised(select_one))
    finally:
        await engine.dispose()


async def test_redis_refusing_connections_is_an_outage() -> None:
    client = redis.asyncio.Redis(port=closed_port(), socket_connect_timeout=2)
    try:
        assert is_outage(await raised(client.ping))
    finally:
        await client.aclose()


async def test_a_full_or_locked_sqlite_database_is_an_outage(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "full.db", isolation_level=None)
    connection.execute("CREATE TABLE t (x TEXT)")
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count={pages}")  # SQLITE_FULL, as a full disk

    async def fill() -> None:
        for _ in range(1000):
            connection.execute("INSERT INTO t VALUES (?)", ("x" * 500,))

    full = await raised(fill)
    assert "database or disk is full" in str(full) and is_outage(full)
    assert is_outage(sqlite3.OperationalError("database is locked"))  # the write gate's
    connection.close()


def test_a_full_or_failing_disk_is_an_outage() -> None:
    assert is_outage(OSError(errno.ENOSPC, "No space left on device"))
    assert is_outage(OSError(errno.EIO, "Input/output error"))
    assert not is_outage(FileNotFoundError(errno.ENOENT, "No such file"))


async def test_integrity_and_programming_errors_are_not_outages(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'bugs.db'}")

    async def duplicate() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            await connection.execute(text("INSERT INTO t VALUES (1), (1)"))

    try:
        integrity = await raised(duplicate)
    finally:
        await engine.dispose()
    assert isinstance(integrity, IntegrityError) and not is_outage(integrity)
    assert not is_outage(KeyError("x")) and not is_outage(TypeError("y"))


# -- the answers ------------------------------------------------------------------------


@pytest.fixture
async def tiny() -> AsyncIterator[httpx.AsyncClient]:
    """An app with two routes: one with a bug, one meeting a full disk."""
    app = FastAPI()

    @app.post("/bug")
    async def bug() -> None:
        raise IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    @app.post("/full")
    async def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    app.add_middleware(AnswerErrorsMiddleware, outcomes=WriteOutcomes())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_a_bug_is_answered_500_json_internal_and_logged_with_its_traceback(
    tiny: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="vendorbell.errors"):
        response = await tiny.post("/bug")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "internal" and set(response.json()) == {"detail", "code"}
    assert "retry-after" not in response.headers
    [record] = [r for r in caplog.records if r.getMessage() == "http.internal_error"]
    assert record.exc_info is not None and record.exc_info[0] is IntegrityError


async def test_a_full_disk_is_answered_503_unavailable_with_retry_after(
    tiny: httpx.AsyncClient,
) -> None:
    response = await tiny.post("/full")
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_every_operation_declares_503_unavailable_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    document = await openapi(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("503")
            assert answer is not None, (method, path)
            assert "Retry-After" in answer["headers"], (method, path)
