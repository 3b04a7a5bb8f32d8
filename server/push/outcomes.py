"""What a push service's answer does to the outbox row and its subscription.

201 delivered; 404/410 the subscription is gone (deleted, the row kept as failed);
429/5xx/timeouts retried with exponential backoff and jitter, honouring Retry-After,
until the TTL runs out (then expired); other 4xx failed with the reason kept.
A row deferred unsent (its push service paused) is due again later, its claim's
attempt given back.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.bulk import among
from server.core.db import utcnow
from server.core.hooks import Hook, Hooks
from server.core.metrics import PUSH_LATENCY, PUSHES
from server.push.attempts import record_attempts
from server.push.models import PushDelivery, PushSubscription
from server.push.sender import Job, Outcome

log = logging.getLogger("vendorbell.push")

DELIVERIES: Table = PushDelivery.__table__  # type: ignore[assignment]
SUBSCRIPTIONS: Table = PushSubscription.__table__  # type: ignore[assignment]
BACKOFF_CAP = 3600.0

# Deliveries that just failed or expired, in the transaction recording them: whoever
# cares about a push that never arrived hears of it here (orders: server.background).
PUSHES_SETTLED: Hook[Callable[[AsyncSession, Collection[int]], Awaitable[None]]] = Hook(
    "push.settled"
)
# Deliveries a push service just accepted, in the same transaction (the marketplace
# webhooks: server.background).
PUSHES_DELIVERED: Hook[Callable[[AsyncSession, Collection[int]], Awaitable[None]]] = Hook(
    "push.delivered"
)


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds until the next try: Retry-After when given, else exponential with jitter."""
    if retry_after is not None:
        return retry_after
    base = min(BACKOFF_CAP, 2.0 ** min(attempts, 12))
    return random.uniform(base / 2, base)


_counters: dict[tuple[str, str], Any] = {}


def count_outcome(outcome: Outcome, job: Job) -> None:
    """PUSHES by outcome and push service; PUSH_LATENCY from the row's commit to the 201.
    A deferred row was not sent: it is counted where it is deferred (PUSH_DEFERRED)."""
    if outcome.kind == "deferred":
        return
    key = (outcome.kind, outcome.service or "unknown")
    counter = _counters.get(key)
    if counter is None:
        counter = _counters[key] = PUSHES.labels(outcome=key[0], service=key[1])
    counter.inc()
    if outcome.kind == "delivered":
        PUSH_LATENCY.observe(max(0.0, time.time() - job.created_at.timestamp()))


@dataclass
class _Batch:
    """A batch of outcomes sorted by what they change: one statement per kind."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # failed, expired, retried
    delivered: dict[int, list[int]] = field(default_factory=dict)  # by HTTP status
    success: set[int] = field(default_factory=set)  # subscriptions that took one
    failures: list[dict[str, Any]] = field(default_factory=list)  # subscriptions' last failure
    gone: set[int] = field(default_factory=set)  # subscriptions to delete (404/410)
    deferred: list[dict[str, Any]] = field(default_factory=list)  # never sent: a paused service


def _sort(results: Sequence[tuple[Job, Outcome]], now: datetime) -> _Batch:
    batch = _Batch()
    for job, outcome in results:
        if outcome.kind == "delivered":
            batch.delivered.setdefault(outcome.status or 201, []).append(job.id)
            if job.subscription_id is not None:
                batch.success.add(job.subscription_id)
            continue
        row: dict[str, Any] = {
            "b_id": job.id,
            "b_status": outcome.kind,
            "b_due": job.expires_at,
            "b_last": outcome.status,
            "b_error": outcome.reason,
        }
        if outcome.kind == "gone":
            row["b_status"] = "failed"
            if job.subscription_id is not None:
                batch.gone.add(job.subscription_id)
            log.info("push.send.gone", extra={"delivery": job.id, "status": outcome.status})
        elif outcome.kind == "deferred":
            due = now + timedelta(seconds=outcome.retry_after or 0.0)
            if due < job.expires_at:
                batch.deferred.append({"b_id": job.id, "b_due": due})
                continue
            row["b_status"], row["b_error"] = "expired", "TTL ran out while its push service paused"
        elif outcome.kind == "retry":
            due = now + timedelta(seconds=backoff(job.attempts, outcome.retry_after))
            row["b_status"], row["b_due"] = ("queued", due) if due < job.expires_at else (
                "expired", job.expires_at)  # fmt: skip
        elif outcome.kind == "failed":
            log.warning(
                "push.send.failed",
                extra={"delivery": job.id, "status": outcome.status, "reason": outcome.reason},
            )
        if outcome.kind in ("failed", "retry") and job.subscription_id is not None:
            batch.failures.append({"b_sub": job.subscription_id, "b_reason": outcome.reason})
        batch.rows.append(row)
    return batch


async def _write_deliveries(session: AsyncSession, batch: _Batch, now: datetime) -> None:
    t = DELIVERIES
    for status, ids in batch.delivered.items():
        await session.execute(
            update(t)
            .where(among(session, t.c.id, ids), t.c.status == "queued")
            .values(
                status="delivered", delivered_at=now, last_status=status, error=None,
                lease_until=None, leased_by=None,
            )
        )  # fmt: skip
    if batch.rows:
        await session.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.status == "queued")
            .values(
                status=bindparam("b_status"),
                due_at=bindparam("b_due"),
                last_status=bindparam("b_last"),
                error=bindparam("b_error"),
                lease_until=None,
                leased_by=None,
            ),
            batch.rows,
        )
    if batch.deferred:
        # Never sent: the claim's attempt is given back, so backoff and attempts count sends.
        await session.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.status == "queued")
            .values(
                due_at=bindparam("b_due"), attempts=t.c.attempts - 1,
                lease_until=None, leased_by=None,
            ),
            batch.deferred,
        )  # fmt: skip


async def _write_subscriptions(session: AsyncSession, batch: _Batch, now: datetime) -> None:
    s = SUBSCRIPTIONS
    if batch.success:
        await session.execute(
            update(s)
            .where(among(session, s.c.id, batch.success))
            .values(last_success_at=now, updated_at=now)
        )
    if batch.failures:
        await session.execute(
            update(s)
            .where(s.c.id == bindparam("b_sub"))
            .values(last_failure_at=now, last_failure_reason=bindparam("b_reason")),
            batch.failures,
        )
    if batch.gone:
        await session.execute(delete(s).where(s.c.id.in_(batch.gone)))


async def record_outcomes(
    session: AsyncSession, results: Sequence[tuple[Job, Outcome]], hooks: Hooks | None = None
) -> None:
    """Write a batch of send outcomes to the outbox rows and their subscriptions, and
    hand the deliveries that failed or expired to the `PUSHES_SETTLED` hooks, those
    accepted to the `PUSHES_DELIVERED` ones."""
    now = utcnow()
    batch = _sort(results, now)
    await _write_deliveries(session, batch, now)
    await _write_subscriptions(session, batch, now)
    await record_attempts(session, [outcome for _, outcome in results], now)
    settled = [r["b_id"] for r in batch.rows if r["b_status"] != "queued"]
    for hook in hooks.each(PUSHES_SETTLED) if hooks else ():
        await hook(session, settled)
    accepted = [id for ids in batch.delivered.values() for id in ids]
    for hook in hooks.each(PUSHES_DELIVERED) if hooks and accepted else ():
        await hook(session, accepted)
