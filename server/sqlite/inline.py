"""SQLite on the event loop's own thread, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs every cursor call in a helper thread and hands each result back
through a queue: about a dozen thread hand-offs per request, which measured (see
bench/bench_inbox.py) at roughly 0.7 ms of CPU per read session — far more than
the indexed queries themselves (tens of microseconds). Writes paid the same: an
order's transaction is twelve statements, and its hand-offs (and the GIL changing
hands with each) were a fifth of the order's CPU (bench/bench_orders.py). So both
engines run sqlite3 calls inline:

* In WAL mode a reader never waits for a writer.
* A writer waits only to begin: this process's writers take turns on an asyncio
  lock first (server.sqlite.gate), and another process's write lock is waited for
  by `begin_immediate` below with asyncio sleeps instead of SQLite's busy handler,
  which would sleep on the loop's thread. Once BEGIN IMMEDIATE holds the write
  lock, WAL lets nothing else make the transaction's statements or commit wait.

What remains on the loop's thread is the statements' own work: microseconds for
an order's, a few milliseconds for a 500-user broadcast chunk or a retention batch.

This module provides just the aiosqlite surface that SQLAlchemy's adapter uses
(`sqlalchemy.dialects.sqlite.aiosqlite`), passed in with `async_creator`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
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
        # SQLAlchemy's adapter passes None for "no parameters"; sqlite3 wants a sequence.
        self._cursor.execute(operation, () if parameters is None else parameters)
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

    async def begin_immediate(self, operation: str, timeout_s: float) -> None:
        """`operation` (BEGIN IMMEDIATE) without SQLite's busy handler sleeping on the
        event loop's thread: while another process holds the write lock, wait here."""
        busy_timeout_ms = self._conn.execute("PRAGMA busy_timeout").fetchone()[0]
        self._conn.execute("PRAGMA busy_timeout=0")
        try:
            deadline = time.monotonic() + timeout_s
            delay = 0.001
            while True:
                try:
                    self._conn.execute(operation)
                    return
                except sqlite3.OperationalError as exc:
                    busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() + delay > deadline:
                        raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
        finally:
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

    def begin_deferred(self) -> None:
        """BEGIN a read transaction now, synchronously: it takes no lock, so it never
        waits (server.core.db calls it from SQLAlchemy's begin event)."""
        self._conn.execute("BEGIN DEFERRED")

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


def inline_creator(
    path: str, *, read_only: bool = True, timeout: float | None = None
) -> Callable[[], Any]:
    """`async_creator` for create_async_engine: connections used inline (read-only
    unless told otherwise; a writer goes behind server.sqlite.gate)."""
    busy_timeout = READER_BUSY_TIMEOUT_S if timeout is None else timeout

    async def create() -> InlineConnection:
        # check_same_thread=False: the pool may close a connection from the GC's thread.
        if read_only:
            connection = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=busy_timeout, check_same_thread=False
            )
        else:
            connection = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False)
        return InlineConnection(connection)

    return create
