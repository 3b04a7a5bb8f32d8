"""A read unit on SQLite is one transaction: its statements see one snapshot, however
its BEGIN is sent (server.core.db begins the read-only connections' directly)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from server.core.db import Database


async def test_a_read_transaction_does_not_see_a_write_committed_during_it(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    path.write_bytes(sqlite_template.read_bytes())
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        count = text("SELECT count(*) FROM users")
        async with db.reader() as reader:
            before = await reader.scalar(count)
            async with db.writer() as writer:
                await writer.execute(
                    text(
                        "INSERT INTO users (email, name, role, created_at) "
                        "VALUES ('snap@example.com', 'Snap', 'vendor', '2026-01-01 00:00:00')"
                    )
                )
                await writer.commit()
            assert await reader.scalar(count) == before  # the reader's snapshot
            await reader.commit()
        async with db.reader() as reader:
            assert await reader.scalar(count) == before + 1
    finally:
        await db.dispose()
