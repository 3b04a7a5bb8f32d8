"""Worker heartbeats: each process running background loops writes a row every few
seconds, so that any process's /metrics can tell whether some worker is alive.

A row per process (`host:pid`), in the database every role already shares, so the
same works on SQLite and PostgreSQL, with or without Redis. A process stopping cleanly
deletes its row; rows of processes that died are deleted by the next live worker once
they are FORGET_AFTER_BEATS beats old.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, Text, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, Database, UTCDateTime, utcnow
from server.core.tasks import cancel_and_wait

log = logging.getLogger("vendorbell.heartbeat")

# A worker is alive while its last beat is at most this many intervals old: one missed
# beat (a slow database, a long pause) is not yet a dead worker.
ALIVE_WITHIN_BEATS = 3
FORGET_AFTER_BEATS = 60


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # host:pid
    role: Mapped[str] = mapped_column(String(16))
    loops: Mapped[str] = mapped_column(Text)  # comma-separated, as server.background names them
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())


def process_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True)
class Beat:
    """What one heartbeat row says."""

    name: str
    role: str
    loops: list[str]
    started_at: datetime
    beat_at: datetime


async def record_beat(session: AsyncSession, beat: Beat) -> None:
    """Write this process's row (an update, or an insert the first time)."""
    values = {
        "role": beat.role,
        "loops": ",".join(beat.loops),
        "started_at": beat.started_at,
        "beat_at": beat.beat_at,
    }
    result = await session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.name == beat.name).values(**values)
    )
    if not getattr(result, "rowcount", 0):
        await session.execute(insert(WorkerHeartbeat).values(name=beat.name, **values))


async def forget_stale(session: AsyncSession, before: datetime) -> int:
    """Delete the rows of processes that last beat before `before`; returns how many."""
    result = await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def read_beats(session: AsyncSession) -> list[tuple[str, datetime]]:
    """Every process's name and last beat."""
    rows = await session.execute(select(WorkerHeartbeat.name, WorkerHeartbeat.beat_at))
    return [(name, beat_at) for name, beat_at in rows]


class Heartbeat:
    """This process's heartbeat: a first beat at start, then one every `interval`."""

    def __init__(self, database: Database, role: str, loops: list[str], interval: float) -> None:
        self.database = database
        self.interval = interval
        self.name = process_name()
        self._role, self._loops, self._started_at = role, loops, utcnow()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.beat()  # visible as soon as the process is up
        self._task = asyncio.get_running_loop().create_task(self._run(), name="heartbeat")

    async def stop(self) -> None:
        """Stop beating and delete the row: a process that stopped cleanly is not dead."""
        if self._task is not None:
            await cancel_and_wait([self._task])
        async with self.database.writer() as session:
            await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == self.name))
            await session.commit()

    async def beat(self) -> None:
        now = utcnow()
        beat = Beat(self.name, self._role, self._loops, self._started_at, now)
        try:
            async with self.database.writer() as session:
                await record_beat(session, beat)
                forgotten = await forget_stale(
                    session, now - timedelta(seconds=self.interval * FORGET_AFTER_BEATS)
                )
                await session.commit()
        except Exception:
            log.exception("heartbeat.failed", extra={"worker": self.name})
            return
        if forgotten:
            log.info("heartbeat.forgot_stale", extra={"rows": forgotten})

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.beat()
