"""Retention: finished outbox rows older than RETENTION_DAYS are deleted, in batches.

What goes: push deliveries delivered, failed or expired; emails sent or failed; webhook
deliveries delivered or failed; the push services' answers counted per period
(push_service_stats) and breaker rows nobody updated since. A queued row (due now,
later, or being retried) is never deleted, however old: it is work still to do.
Receipts (shown/clicked) are columns of the notification itself, which stays in its
owner's inbox, so nothing of them is deleted here.

Each batch is its own short transaction, so a first pass over a year of rows never
holds a lock for long, and a pass stops after MAX_BATCHES; the next pass goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.config import Settings
from server.core.db import Database, utcnow
from server.integrations.webhooks.models import WebhookDelivery
from server.mail.models import OutgoingEmail
from server.push.models import PushCircuit, PushDelivery, PushServiceStat

log = logging.getLogger("vendorbell.retention")

# Rows become old by the day, but the loop waits before its first pass: hourly passes
# would never run in workers restarted more often than that (deploys, autoscaling).
# A pass with nothing to delete is five indexed queries.
EVERY_SECONDS = 600.0
BATCH_SIZE = 1000  # rows per transaction: short locks, few round trips
MAX_BATCHES = 100  # per table per pass: a pass ends even on a huge first backlog


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


@dataclass(frozen=True)
class Kept:
    """One table retention prunes: which rows are finished, and their age column."""

    name: str
    table: Table
    age: str  # the column a row's age is read from
    finished: tuple[str, ...] | None  # statuses that may go; None: every row

    def old(self, cutoff: datetime) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = self.table.c[self.age] < cutoff
        if self.finished is not None:
            condition = condition & self.table.c.status.in_(self.finished)
        return condition


PUSH = Kept("push", _table(PushDelivery), "created_at", ("delivered", "failed", "expired"))
EMAIL = Kept("email", _table(OutgoingEmail), "created_at", ("sent", "failed"))
WEBHOOKS = Kept("webhooks", _table(WebhookDelivery), "created_at", ("delivered", "failed"))
STATS = Kept("push_service_stats", _table(PushServiceStat), "period", None)
CIRCUITS = Kept("push_circuits", _table(PushCircuit), "updated_at", None)
PRUNED = (PUSH, EMAIL, WEBHOOKS, STATS, CIRCUITS)


def cutoff(settings: Settings, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=settings.retention_days)


async def _delete_batch(database: Database, kept: Kept, before: datetime) -> int:
    """Delete up to BATCH_SIZE old finished rows in one transaction; how many went.
    The oldest first by primary key, which follows creation closely: the scan finds
    them at the start of the index."""
    t = kept.table
    key = t.primary_key.columns.values()
    async with database.writer() as session:
        if len(key) == 1:
            (column,) = key
            ids = list(
                await session.scalars(
                    select(column).where(kept.old(before)).order_by(column).limit(BATCH_SIZE)
                )
            )
            if ids:
                await session.execute(delete(t).where(column.in_(ids)))
            gone = len(ids)
        else:  # push_circuits: a handful of rows per worker, no batching needed
            result = await session.execute(delete(t).where(kept.old(before)))
            gone = int(getattr(result, "rowcount", 0) or 0)
        await session.commit()
    return gone


async def prune(database: Database, settings: Settings) -> dict[str, int]:
    """One pass over every pruned table; how many rows each lost."""
    before = cutoff(settings)
    deleted: dict[str, int] = {}
    for kept in PRUNED:
        total = 0
        for _ in range(MAX_BATCHES):
            gone = await _delete_batch(database, kept, before)
            total += gone
            if gone < BATCH_SIZE:
                break
        deleted[kept.name] = total
    if any(deleted.values()):
        log.info("retention.pruned", extra={"rows": deleted, "before": before.isoformat()})
    return deleted


async def oldest_kept(session: AsyncSession, kept: Kept) -> datetime | None:
    """The age column of the table's first row by primary key, which follows creation:
    how far back its data goes, read from the index instead of a scan for MIN()."""
    (column, *_) = kept.table.primary_key.columns.values()
    value: datetime | None = await session.scalar(
        select(kept.table.c[kept.age]).order_by(column).limit(1)
    )
    return value
