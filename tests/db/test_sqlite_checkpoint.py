"""SQLite's WAL is checkpointed by a background thread, not inside the commits of requests."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from server.core.db import Database
from server.sqlite import checkpoint as sqlite_checkpoint


def wal_frames(path: Path) -> int:
    """Frames in the WAL now (this PASSIVE checkpoint then copies them; it never blocks)."""
    with sqlite3.connect(path) as connection:
        _, frames, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames)


async def write_pages(database: Database, pages: int) -> None:
    """About `pages` pages of rows, in commits of 100 (one ~4 KB row per page)."""
    async with database.writer() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS t (pad TEXT)"))
        await session.commit()
    for _ in range(pages // 100):
        async with database.writer() as session:
            await session.execute(text("INSERT INTO t VALUES (:pad)"), [{"pad": "x" * 3900}] * 100)
            await session.commit()


async def test_commits_leave_the_checkpoint_to_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoint, "INTERVAL_SECONDS", 3600.0)  # no pass during this
    path = tmp_path / "wal.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await write_pages(database, 1500)
        # SQLite's default would have checkpointed inside the commit at 1,000 pages
        # and restarted the WAL; every frame is still there.
        assert wal_frames(path) >= 1500
    finally:
        await database.dispose()


async def test_the_background_thread_checkpoints_the_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoint, "INTERVAL_SECONDS", 0.05)
    path = tmp_path / "wal.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    checkpointer = database._checkpointer
    assert checkpointer is not None
    try:
        await write_pages(database, 1500)
        runs = checkpointer.runs
        for _ in range(100):
            if checkpointer.runs >= runs + 2:
                break
            await asyncio.sleep(0.02)
        await write_pages(database, 100)
        async with database.reader() as session:
            assert await session.scalar(text("SELECT count(*) FROM t")) == 1600
        # The WAL had been copied whole, so the next writer started it afresh.
        assert wal_frames(path) < 200
    finally:
        await database.dispose()
    assert not checkpointer._thread.is_alive()
