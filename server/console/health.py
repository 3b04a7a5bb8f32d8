"""What the console shows of the push services, the queues and the workers.

Push services are read from push_service_stats (their POSTs counted per five minutes
and answer time by the delivery worker) and push_circuits (each live worker's
breakers); the queues from the outbox tables themselves; the workers from their
heartbeats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.console import retention
from server.console.health_schemas import (
    CircuitState,
    PushServiceOut,
    PushServicesOut,
    PushWindow,
    QueueName,
    QueueOut,
    WorkerOut,
)
from server.core.config import Settings
from server.core.db import utcnow
from server.ops.heartbeat import ALIVE_WITHIN_BEATS, WorkerHeartbeat
from server.push.attempts import COUNTED, bin_ms
from server.push.models import PushCircuit, PushServiceStat

# A queue is stuck when its oldest pending item has been due this long. Every outbox
# is claimed within seconds by a live worker (push polls every second, email every 5,
# webhooks every 5, and a signal wakes them at once); a row held by a worker that died
# is due again when its lease ends (60 s). So five minutes due and unclaimed means no
# worker is taking that queue, while a burst of thousands drains in well under that.
STUCK_AFTER_SECONDS = 300.0
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SEVERITY: dict[str, int] = {"closed": 0, "half_open": 1, "open": 2}


async def alive_workers(session: AsyncSession, now: datetime, settings: Settings) -> set[str]:
    since = now - timedelta(seconds=settings.heartbeat_seconds * ALIVE_WITHIN_BEATS)
    rows = await session.scalars(
        select(WorkerHeartbeat.name).where(WorkerHeartbeat.beat_at >= since)
    )
    return set(rows)


class _Tally:
    """One service's answers in one window: the counts, and sent per answer-time bin."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTED, 0)
        self.bins: dict[int, int] = {}

    def add(self, bin: int, counts: Sequence[int]) -> None:
        for name, value in zip(COUNTED, counts, strict=True):
            self.counts[name] += int(value)
        self.bins[bin] = self.bins.get(bin, 0) + int(counts[0])

    def percentile_ms(self, q: float) -> float | None:
        """The nearest-rank q-th answer time: the upper edge of the bin it falls in."""
        sent = self.counts["sent"]
        if not sent:
            return None
        rank, seen = max(1, math.ceil(q * sent)), 0
        for bin in sorted(self.bins):
            seen += self.bins[bin]
            if seen >= rank:
                return round(bin_ms(bin), 1)
        return None

    def window(self) -> PushWindow:
        c, sent = self.counts, self.counts["sent"]
        return PushWindow(
            sent=sent,
            delivered=c["delivered"],
            delivered_percent=round(100.0 * c["delivered"] / sent, 1) if sent else None,
            p50_ms=self.percentile_ms(0.50),
            p99_ms=self.percentile_ms(0.99),
            rate_limited=c["rate_limited"],
            server_errors=c["server_errors"],
            timeouts=c["timeouts"],
        )


async def _tallies(session: AsyncSession, now: datetime) -> dict[str, tuple[_Tally, _Tally]]:
    """(last hour, last day) per service, from one grouped read of a day's periods: at
    most services x bins x 2 rows come back, however many POSTs there were. A window
    holds the periods that started inside it (to five minutes)."""
    s = PushServiceStat
    in_hour = case((s.period >= now - HOUR, 1), else_=0).label("in_hour")
    sums = [func.sum(s.__table__.c[name]) for name in COUNTED]
    rows = await session.execute(
        select(s.service, s.bin, in_hour, *sums)
        .where(s.period >= now - DAY)
        .group_by(s.service, s.bin, in_hour)
    )
    tallies: dict[str, tuple[_Tally, _Tally]] = {}
    for service, bin, hour, *counts in rows:
        hour_tally, day_tally = tallies.setdefault(service, (_Tally(), _Tally()))
        day_tally.add(bin, counts)
        if hour:
            hour_tally.add(bin, counts)
    return tallies


def worst_circuit(
    rows: Iterable[tuple[str, datetime | None]], now: datetime
) -> tuple[CircuitState, datetime | None]:
    """The worst breaker of the live workers'; an open one whose pause is over lets its
    next push through as a probe, so it shows as half-open."""
    state: CircuitState = "closed"
    next_try: datetime | None = None
    for raw, not_before in rows:
        seen: CircuitState = "half_open" if raw != "closed" else "closed"
        if raw == "open" and not_before is not None and not_before > now:
            seen = "open"
            next_try = max(next_try or not_before, not_before)
        if SEVERITY[seen] > SEVERITY[state]:
            state = seen
    return state, next_try if state == "open" else None


async def push_services(session: AsyncSession, settings: Settings) -> PushServicesOut:
    now = utcnow()
    tallies = await _tallies(session, now)
    alive = await alive_workers(session, now, settings)
    circuits: dict[str, list[tuple[str, datetime | None]]] = {}
    for service, worker, state, not_before in await session.execute(
        select(PushCircuit.service, PushCircuit.worker, PushCircuit.state, PushCircuit.not_before)
    ):
        if worker.rsplit(":", 1)[0] in alive:  # a worker's breakers die with it
            circuits.setdefault(service, []).append((state, not_before))
    services = []
    for name in sorted(tallies.keys() | circuits.keys()):
        state, next_try = worst_circuit(circuits.get(name, []), now)
        hour, day = tallies.get(name, (_Tally(), _Tally()))
        services.append(
            PushServiceOut(
                service=name,
                last_hour=hour.window(),
                last_day=day.window(),
                circuit=state,
                next_try_at=next_try,
            )
        )
    oldest = await retention.oldest_kept(session, retention.STATS)
    return PushServicesOut(
        generated_at=now,
        retention_days=settings.retention_days,
        oldest_kept_at=oldest,
        services=services,
    )


async def queue(
    session: AsyncSession, name: QueueName, kept: retention.Kept, now: datetime
) -> QueueOut:
    """One outbox: queued rows due now and unclaimed, claimed, or due later."""
    t: Table = kept.table
    queued = t.c.status == "queued"
    leased = and_(t.c.lease_until.is_not(None), t.c.lease_until > now)
    free = or_(t.c.lease_until.is_(None), t.c.lease_until <= now)
    pending = and_(queued, t.c.due_at <= now, free)

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # Only queued rows are read (the claim indexes cover them): a table of a month of
    # delivered rows is not scanned on each look.
    row = (
        await session.execute(
            select(
                count(pending),
                count(leased),
                count(and_(t.c.due_at > now, free)),
                func.min(case((pending, t.c.due_at), else_=None)),
            ).where(queued)
        )
    ).one()
    oldest_due: datetime | None = row[3]
    if isinstance(oldest_due, str):  # SQLite's MIN over a CASE loses the column's type
        oldest_due = datetime.fromisoformat(oldest_due)
    if oldest_due is not None and oldest_due.tzinfo is None:
        oldest_due = oldest_due.replace(tzinfo=now.tzinfo)
    age = max(0.0, (now - oldest_due).total_seconds()) if oldest_due is not None else None
    return QueueOut(
        name=name,
        pending=int(row[0]),
        in_flight=int(row[1]),
        delayed=int(row[2]),
        oldest_pending_seconds=None if age is None else round(age, 1),
        stuck=age is not None and age > STUCK_AFTER_SECONDS,
        oldest_kept_at=await retention.oldest_kept(session, kept),
    )


async def queues(session: AsyncSession, now: datetime) -> list[QueueOut]:
    return [
        await queue(session, "push", retention.PUSH, now),
        await queue(session, "email", retention.EMAIL, now),
        await queue(session, "webhooks", retention.WEBHOOKS, now),
    ]


async def workers(session: AsyncSession, now: datetime, settings: Settings) -> list[WorkerOut]:
    alive_for = settings.heartbeat_seconds * ALIVE_WITHIN_BEATS
    rows = await session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.name))
    found = []
    for beat in rows:
        age = max(0.0, (now - beat.beat_at).total_seconds())
        found.append(
            WorkerOut(
                name=beat.name,
                role=beat.role,
                loops=[loop for loop in beat.loops.split(",") if loop],
                started_at=beat.started_at,
                beat_at=beat.beat_at,
                beat_age_seconds=round(age, 1),
                alive=age <= alive_for,
            )
        )
    return found
