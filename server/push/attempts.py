"""What the operator's console reads about each push service: its POSTs' answers,
counted per five minutes and answer time (push_service_stats), and each worker's breaker
when it changes (push_circuits).

Both are written by the delivery worker in the transaction that records the outcomes:
a batch's POSTs are counted in memory first, so a batch costs one upsert of a few rows
(one per service, period and time bin), not a row per push. The answer times are kept as
a histogram of log-spaced bins 20% apart, so the p50/p99 read back are within 20% (the
bin's upper edge: never better than it was).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.push.models import PushCircuit, PushServiceStat
from server.push.sender import Outcome

STATS: Table = PushServiceStat.__table__  # type: ignore[assignment]
CIRCUITS: Table = PushCircuit.__table__  # type: ignore[assignment]
STATE_NAMES = ("closed", "half_open", "open")  # by server.push.services' CLOSED, HALF_OPEN, OPEN
PERIOD_SECONDS = 300
BIN_RATIO = 1.2  # each bin's upper edge is 20% above its lower one
MAX_BIN = 80  # 1.2**80 ms is past a day: every bounded POST fits
COUNTED = ("sent", "delivered", "rate_limited", "server_errors", "timeouts")


def bin_of(seconds: float) -> int:
    """The histogram bin of an answer time: 0 for ≤ 1 ms, else ⌈log₁.₂ ms⌉."""
    ms = seconds * 1000
    return 0 if ms <= 1 else min(MAX_BIN, math.ceil(math.log(ms, BIN_RATIO)))


def bin_ms(bin: int) -> float:
    """A bin's upper edge in milliseconds: what a percentile falling in it reads."""
    return float(BIN_RATIO**bin)


def period_of(now: datetime) -> datetime:
    stamp = int(now.timestamp()) // PERIOD_SECONDS * PERIOD_SECONDS
    return datetime.fromtimestamp(stamp, UTC)


def stat_rows(outcomes: Sequence[Outcome], now: datetime) -> list[dict[str, Any]]:
    """The batch's POSTs counted per (service, time bin), in key order. Only outcomes
    that were a POST (they have a measured time) count: rows settled without sending
    (unusable keys, a paused service) reached no push service."""
    counts: dict[tuple[str, int], Counter[str]] = {}
    for outcome in outcomes:
        if outcome.seconds is None or not outcome.service:
            continue
        counted = counts.setdefault((outcome.service[:255], bin_of(outcome.seconds)), Counter())
        status = outcome.status
        counted["sent"] += 1
        counted["delivered"] += outcome.kind == "delivered"
        counted["rate_limited"] += status == 429
        counted["server_errors"] += status is not None and 500 <= status <= 599
        counted["timeouts"] += outcome.kind == "retry" and status is None
    period = period_of(now)
    return [
        {"service": service, "period": period, "bin": bin, **{k: c[k] for k in COUNTED}}
        for (service, bin), c in sorted(counts.items())
    ]


async def record_attempts(
    session: AsyncSession, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Add the batch's counts to its period's rows (created when new). Rows go in key
    order, so two workers adding to the same rows lock them in the same order."""
    rows = stat_rows(outcomes, now)
    if not rows:
        return
    await session.execute(_upsert(session.get_bind().dialect.name), rows)


@functools.cache
def _upsert(dialect_name: str) -> Any:
    """The counting upsert, built once per dialect: it runs with every flush of outcomes,
    and building it cost more than running it."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(STATS)
    added = {name: STATS.c[name] + statement.excluded[name] for name in COUNTED}
    return statement.on_conflict_do_update(index_elements=["service", "period", "bin"], set_=added)


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
