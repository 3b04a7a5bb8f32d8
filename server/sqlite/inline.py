"""SQLite reads on the event loop's own thread, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs every cursor call in a helper thread and hands each result back
through a queue: about a dozen thread hand-offs per request, which measured (see
bench/bench_inbox.py) at roughly 0.7 ms of CPU per read session — far more than
the indexed queries themselves (tens of microseconds). In WAL mode a reader never
waits for a writer, so the read-only engine runs sqlite3 calls inline instead. The
write engine keeps aiosqlite: a writer may wait on the busy timeout, and that wait
must not stall the event loop.

This module provides just the aiosqlite surface that SQLAlchemy's adapter uses
(`sqlalchemy.dialects.sqlite.aiosqlite`), passed in with `async_creator`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# A reader should never wait long: in WAL mode only WAL recovery makes it wait.
READER_BUSY_TIMEOUT_S = 1.0


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, seq: Iterable[Any]) -> _Cursor:
        self._cursor.executemany(operation, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Immediate:
    """Stands in for aiosqlite's request queue: runs the function now."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _Immediate()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def execute(self, operation: str, parameters: Sequence[Any] = ()) -> _Cursor:
        return await self.cursor().execute(operation, parameters)

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def inline_creator(path: str) -> Callable[[], Any]:
    """`async_creator` for create_async_engine: read-only connections used inline."""

    async def create() -> InlineConnection:
        uri = f"file:{path}?mode=ro"
        connection = sqlite3.connect(
            uri, uri=True, timeout=READER_BUSY_TIMEOUT_S, check_same_thread=False
        )
        return InlineConnection(connection)

    return create
