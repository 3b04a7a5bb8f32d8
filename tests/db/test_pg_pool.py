"""PostgreSQL's pool: a connection the server dropped is replaced at checkout, and the
check costs no round trip beyond the transaction's own BEGIN and COMMIT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from server.core.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database(pg_database: str) -> AsyncIterator[Database]:
    db = Database(pg_database)
    yield db
    await db.dispose()


async def backend_pid(db: Database) -> int:
    async with db.reader() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        await session.commit()
    assert isinstance(pid, int)
    return pid


async def test_a_pooled_connection_the_server_dropped_is_replaced_at_checkout(
    database: Database,
) -> None:
    first = await backend_pid(database)
    assert await backend_pid(database) == first  # the pool hands the same one back
    admin = create_async_engine(database.url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            ended = await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        assert ended is True
    finally:
        await admin.dispose()
    # The dropped connection is found before any statement of the unit runs on it.
    replaced = await backend_pid(database)
    assert replaced != first
    async with database.writer() as session:
        assert await session.scalar(text("SELECT 1")) == 1
        await session.commit()


async def test_a_read_on_a_pooled_connection_sends_only_begin_the_query_and_commit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await backend_pid(database)  # pooled now (a fresh connection is never checked)
    sent: list[str] = []

    def counting(name: str) -> Any:
        original = getattr(asyncpg.Connection, name)

        async def call(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(query.strip().rstrip(";").split()[0].upper() if query.strip() else "")
            return await original(self, query, *args, **kwargs)

        return call

    for name in ("execute", "fetchrow", "fetch", "fetchval"):
        monkeypatch.setattr(asyncpg.Connection, name, counting(name))
    await backend_pid(database)
    # The query itself goes through a prepared statement; a ping would add BEGIN, a
    # statement and ROLLBACK.
    assert sent == ["BEGIN", "COMMIT"]
