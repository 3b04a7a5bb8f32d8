"""What the operator's console reads about each push service: every POST's answer
(push_attempts) and each worker's breaker when it changes (push_circuits).

Both are written by the delivery worker in the transaction that records the outcomes,
so they cost one more INSERT per batch, not a round trip per push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.push.models import PushAttempt, PushCircuit
from server.push.sender import Job, Outcome

ATTEMPTS: Table = PushAttempt.__table__  # type: ignore[assignment]
CIRCUITS: Table = PushCircuit.__table__  # type: ignore[assignment]
STATE_NAMES = ("closed", "half_open", "open")  # by server.push.services' CLOSED, HALF_OPEN, OPEN


def attempt_rows(results: Sequence[tuple[Job, Outcome]], now: datetime) -> list[dict[str, Any]]:
    """One row per outcome that was a POST (it has a measured time): rows settled
    without sending (unusable keys, a paused service) reached no push service."""
    return [
        {
            "service": outcome.service[:255],
            "at": now,
            "kind": outcome.kind,
            "status": outcome.status,
            "seconds": outcome.seconds,
        }
        for _, outcome in results
        if outcome.seconds is not None and outcome.service
    ]


async def record_attempts(
    session: AsyncSession, results: Sequence[tuple[Job, Outcome]], now: datetime
) -> None:
    rows = attempt_rows(results, now)
    if rows:
        await session.execute(insert(ATTEMPTS), rows)


@dataclass(frozen=True)
class Circuit:
    """One push service's breaker in one worker."""

    service: str
    state: int
    not_before: float  # unix time; 0 when never paused
    failures: int

    def row(self, worker: str, now: datetime) -> dict[str, Any]:
        paused = self.not_before > 0 and self.state != 0
        return {
            "service": self.service[:255],
            "worker": worker,
            "state": STATE_NAMES[self.state],
            "not_before": datetime.fromtimestamp(self.not_before, UTC) if paused else None,
            "failures": self.failures,
            "updated_at": now,
        }


async def record_circuits(
    session: AsyncSession, worker: str, circuits: Sequence[Circuit], now: datetime
) -> None:
    """Replace this worker's rows for these services (a delete and an insert: the same
    statements on SQLite and PostgreSQL, and only this worker writes its rows)."""
    if not circuits:
        return
    t = CIRCUITS
    names = [c.service[:255] for c in circuits]
    await session.execute(delete(t).where(t.c.worker == worker, t.c.service.in_(names)))
    await session.execute(insert(t), [c.row(worker, now) for c in circuits])


async def forget_circuits(session: AsyncSession, worker: str) -> None:
    """A stopping worker's breakers go with it."""
    await session.execute(delete(CIRCUITS).where(CIRCUITS.c.worker == worker))
