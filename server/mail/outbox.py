"""The mail loop: claims due email rows as leases, sends them, records what happened.

Like the push delivery worker (server.push.worker), a lease lives in the row: claiming
moves `due_at` to the lease's end, so a row held by a process that died becomes due
again. On PostgreSQL the claim skips rows other workers hold (`FOR UPDATE SKIP
LOCKED`), so several worker processes never take one row together; SQLite's single
writer serialises the claim. Emails are few, so rows are sent one after the other.

Outcomes: sent; a temporary failure (SMTP 4xx, a refused or dropped connection, a
timeout) is retried with exponential backoff and jitter, up to MAX_ATTEMPTS; a
permanent one (SMTP 5xx) fails at once with the server's reply as the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from datetime import datetime, timedelta

from sqlalchemy import select, update

from server.core.db import utcnow
from server.mail.message import build_message
from server.mail.models import OutgoingEmail
from server.mail.transport import MailFailure, Transport
from server.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("vendorbell.mail")

POLL_SECONDS = 5.0  # the safety net: a signal wakes the loop at once
BATCH = 20
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30.0  # after the first failure; doubling up to MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 3600.0


_DUE = select(OutgoingEmail.id).where(OutgoingEmail.status == "queued").limit(1)


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` tries (±20 % so retries spread out)."""
    base = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2.0 ** max(0, attempts - 1))
    return base * random.uniform(0.8, 1.2)


class MailWorker:
    """Sends queued emails until stopped; safe to run in several processes (PostgreSQL)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        transport: Transport,
        *,
        lease_seconds: float | None = None,
        poll_seconds: float = POLL_SECONDS,
        drain_seconds: float | None = None,
    ) -> None:
        settings = units.settings
        self.units = units
        self.transport = transport
        # Longer than one SMTP session can take, so a slow send keeps its row.
        self.lease_seconds = lease_seconds or 4 * settings.smtp_timeout + 30
        self.poll_seconds = poll_seconds
        self.drain_seconds = settings.drain_seconds if drain_seconds is None else drain_seconds
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}:{id(self) % 10000}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.units.signals.emails.connect(self._committed)
        self._task = asyncio.create_task(self._run(), name="mail")
        log.info("mail.started", extra={"transport": self.transport.describe()})

    async def stop(self) -> None:
        """Stop claiming, let the email being sent finish (up to DRAIN_SECONDS), then
        hand back the rows claimed but not sent. A send cut off at the deadline is handed
        back too: it may have reached the server, but its lease would run out anyway."""
        self.units.signals.emails.disconnect(self._committed)
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            _, pending = await asyncio.wait([self._task], timeout=self.drain_seconds)
            for task in pending:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.release()

    def _committed(self, _: list[int]) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("mail.loop_failed")
                sent = 0
            if sent < BATCH and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def run_once(self, now: datetime | None = None) -> int:
        """Claim what is due at `now` (default: the clock) and send it; how many rows were
        claimed. Tests call this with the time they want."""
        rows = await self.claim(BATCH, now)
        for row in rows:
            if self._stopping:
                break  # the rest is released by stop()
            await self._send(row)
        return len(rows)

    async def claim(self, limit: int, now: datetime | None = None) -> list[OutgoingEmail]:
        """Lease up to `limit` due rows to this worker, each with one more attempt."""
        t = OutgoingEmail
        now = now or utcnow()
        # A read first: on SQLite a claim takes the one write lock, and most polls find
        # nothing to claim.
        async with self.units.reader() as uow:
            if await uow.session.scalar(_DUE.where(t.due_at <= now)) is None:
                return []
        lease = now + timedelta(seconds=self.lease_seconds)
        due = (
            select(t.id)
            .where(t.status == "queued", t.due_at <= now)
            .order_by(t.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # not rendered on SQLite: one writer at a time
            .scalar_subquery()
        )
        async with self.units.writer() as uow:
            rows = list(
                await uow.session.scalars(
                    update(t)
                    .where(t.id.in_(due))
                    .values(due_at=lease, lease_until=lease, leased_by=self.name,
                            attempts=t.attempts + 1)
                    .returning(t)
                    .execution_options(synchronize_session=False)
                )
            )  # fmt: skip
            await uow.commit()
        return sorted(rows, key=lambda row: (row.due_at, row.id))

    async def _send(self, row: OutgoingEmail) -> None:
        settings = self.units.settings
        message = build_message(row, sender=settings.mail_sender, public_url=settings.public_url)
        try:
            await self.transport.send(message)
        except MailFailure as failure:
            await self._record_failure(row, failure)
        except Exception as exc:  # a bug of ours: kept visible on the row, and retried
            log.exception("mail.send_crashed", extra={"email_id": row.id})
            await self._record_failure(row, MailFailure(type(exc).__name__, permanent=False))
        else:
            await self._record(row.id, status="sent", sent_at=utcnow(), last_error=None)
            log.info("mail.sent", extra=_context(row))

    async def _record_failure(self, row: OutgoingEmail, failure: MailFailure) -> None:
        if failure.permanent or row.attempts >= MAX_ATTEMPTS:
            reason = failure.reason
            if not failure.permanent:
                reason = f"gave up after {row.attempts} attempts: {reason}"
            await self._record(row.id, status="failed", last_error=reason)
            log.warning("mail.failed", extra={**_context(row), "reason": reason})
            return
        delay = backoff(row.attempts)
        due = utcnow() + timedelta(seconds=delay)
        await self._record(row.id, status="queued", due_at=due, last_error=failure.reason)
        log.info("mail.retry", extra={**_context(row), "reason": failure.reason, "in": delay})

    async def _record(self, email_id: int, **values: object) -> None:
        async with self.units.writer() as uow:
            await uow.session.execute(
                update(OutgoingEmail)
                .where(OutgoingEmail.id == email_id)
                .values(lease_until=None, leased_by=None, **values)
            )
            await uow.commit()

    async def release(self) -> None:
        """Hand back rows this worker claimed but did not send (shutdown)."""
        t = OutgoingEmail
        async with self.units.writer() as uow:
            result = await uow.session.execute(
                update(t)
                .where(t.leased_by == self.name, t.status == "queued")
                .values(due_at=utcnow(), lease_until=None, leased_by=None)
            )
            await uow.commit()
        released = int(getattr(result, "rowcount", 0) or 0)
        if released:
            log.info("mail.released", extra={"worker": self.name, "rows": released})


def _context(row: OutgoingEmail) -> dict[str, object]:
    return {"email_id": row.id, "order_id": row.order_id, "reason": row.reason}
