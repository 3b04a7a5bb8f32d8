"""SQLite write transactions of one process take turns in order, without sleeping.

SQLite lets one writer in at a time. A `BEGIN IMMEDIATE` that finds the lock taken
waits in SQLite's busy handler, which polls with sleeps that grow to 100 ms: the
lock is usually free again within a millisecond, but a waiter notices only when it
wakes, and a newcomer may take the lock first. Measured with bench/bench_push.py at
50 orders/s (requests and the in-app push worker writing), `BEGIN IMMEDIATE` waited
p99 130 ms and up to 540 ms, although no transaction held the lock for more than a
few milliseconds of work; a claim by the push worker sometimes lost for seconds.

Here every `BEGIN IMMEDIATE` of an engine first queues on an asyncio lock (first
come, first served), which its commit, rollback or close hands straight to the next
writer. Other processes are still kept out by SQLite's own lock and busy timeout.

This wraps the inline connection (server.sqlite.inline) that SQLAlchemy's aiosqlite
dialect drives (`async_creator`); everything but cursors, commit, rollback and close
passes through.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from typing import Any

from server.sqlite.inline import InlineConnection, inline_creator


class WriteGate:
    """One FIFO lock per event loop (an asyncio.Lock belongs to one loop)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        found = self._locks.get(loop)
        if found is None:
            found = self._locks[loop] = asyncio.Lock()
        return found


class _GatedCursor:
    def __init__(self, cursor: Any, connection: GatedConnection) -> None:
        self._cursor = cursor
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    async def execute(self, operation: str, parameters: Any = None) -> _GatedCursor:
        if operation.startswith("BEGIN IMMEDIATE"):
            await self._connection.acquire()
            try:
                await self._connection.begin_immediate(operation)
            except BaseException:
                self._connection.release()
                raise
            return self
        await self._cursor.execute(operation, parameters)
        return self


class _CursorContext:
    """What `connection.cursor()` returns: SQLAlchemy awaits its `__aenter__`."""

    def __init__(self, inner: Any, connection: GatedConnection) -> None:
        self._inner = inner
        self._connection = connection

    async def __aenter__(self) -> _GatedCursor:
        return _GatedCursor(await self._inner.__aenter__(), self._connection)

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.__aexit__(*exc)


class GatedConnection:
    def __init__(self, connection: InlineConnection, gate: WriteGate) -> None:
        self._inner = connection
        self._gate = gate
        self._held: asyncio.Lock | None = None

    async def begin_immediate(self, operation: str) -> None:
        await self._inner.begin_immediate(operation, self._gate.timeout_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def acquire(self) -> None:
        lock = self._gate.lock()
        try:
            async with asyncio.timeout(self._gate.timeout_s):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._held = lock

    def release(self) -> None:
        lock, self._held = self._held, None
        if lock is not None:
            lock.release()

    def cursor(self) -> _CursorContext:
        return _CursorContext(self._inner.cursor(), self)

    async def commit(self) -> None:
        try:
            await self._inner.commit()
        finally:
            self.release()

    async def rollback(self) -> None:
        try:
            await self._inner.rollback()
        finally:
            self.release()

    async def close(self) -> None:
        try:
            await self._inner.close()
        finally:
            self.release()

    def stop(self) -> Any:
        self.release()
        return self._inner.stop()


def gated_creator(path: str, gate: WriteGate, timeout: float) -> Callable[[], Any]:
    """`async_creator` for create_async_engine: inline read-write connections behind
    `gate`; `timeout` is SQLite's busy timeout for statements other than the begin."""
    inline = inline_creator(path, read_only=False, timeout=timeout)

    async def create() -> GatedConnection:
        return GatedConnection(await inline(), gate)

    return create
