"""SQLite write transactions of one process queue and hand over at once, however they end."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from server.core.db import Database


async def test_writers_take_turns_and_every_ending_hands_over(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    try:
        async with database.writer() as session:
            await session.execute(text("CREATE TABLE t (n INTEGER)"))
            await session.commit()
        order: list[str] = []
        first_in = asyncio.Event()
        let_go = asyncio.Event()

        async def holder() -> None:
            async with database.writer() as session:
                await session.execute(text("INSERT INTO t VALUES (1)"))
                first_in.set()
                await let_go.wait()
                order.append("first")
                await session.commit()

        async def waiter(name: str, end: str) -> None:
            async with database.writer() as session:
                await session.execute(text("INSERT INTO t VALUES (2)"))
                order.append(name)
                if end == "commit":
                    await session.commit()
                elif end == "rollback":
                    await session.rollback()
                else:
                    raise RuntimeError("the request failed")  # the session closes

        hold = asyncio.create_task(holder())
        await first_in.wait()
        waiting = [
            asyncio.create_task(waiter("second", "rollback")),
            asyncio.create_task(waiter("third", "error")),
            asyncio.create_task(waiter("fourth", "commit")),
        ]
        await asyncio.sleep(0.05)
        assert order == []  # all wait while the first holds the write lock
        started = time.perf_counter()
        let_go.set()
        await hold
        results = await asyncio.gather(*waiting, return_exceptions=True)
        # No sleeping busy handler between them: each ending hands over at once.
        assert time.perf_counter() - started < 0.5
        assert order[0] == "first" and sorted(order[1:]) == ["fourth", "second", "third"]
        assert [type(r).__name__ for r in results] == ["NoneType", "RuntimeError", "NoneType"]
        async with database.reader() as session:
            assert (await session.scalar(text("SELECT count(*) FROM t"))) == 2
    finally:
        await database.dispose()


async def test_a_write_lock_held_by_another_process_is_waited_for_without_stalling_the_loop(
    tmp_path: Path,
) -> None:
    """Writes run on the loop's thread: while another process (here, another sqlite3
    connection, as a CLI command would hold it) has the write lock, the event loop
    keeps serving, and the write goes in once the lock is given back."""
    path = tmp_path / "other.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.writer() as session:
            await session.execute(text("CREATE TABLE t (n INTEGER)"))
            await session.commit()
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        async def write() -> None:
            async with database.writer() as session:
                await session.execute(text("INSERT INTO t VALUES (7)"))
                await session.commit()

        ticking = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # still waiting for the other process's lock
        assert ticks >= 20  # and the loop was free meanwhile (a blocked loop ticks 0)
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
        ticking.cancel()
        other.close()
        async with database.reader() as session:
            assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [7]
    finally:
        await database.dispose()
