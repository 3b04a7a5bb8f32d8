"""The mail loop: claims due email rows as leases, sends them, records what happened.

Like the push delivery worker (server.push.worker), a lease lives in the row: claiming
moves `due_at` to the lease's end, so a row held by a process that died becomes due
again. On PostgreSQL the claim skips rows other workers hold (`FOR UPDATE SKIP
LOCKED`), so several worker processes never take one row together; SQLite's single
writer serialises the claim. Emails are few, so rows are sent one after the other.

A batch is claimed at once but sent one by one, and a slow server can make the last
rows outlive the claim's lease, when another worker may take them. So each send first
renews its row's lease and counts the attempt, in one UPDATE that only succeeds while
this worker still holds the row (else the row is left to whoever has it); the send is
bounded well inside the lease (the transport's `session_seconds`); and the outcome is
written only under this worker's lease. One email per order and reason leaves, whatever
the server does, as long as a send cannot outlast its lease.

Outcomes: sent; a temporary failure (SMTP 4xx, a refused or dropped connection, a
timeout) is retried with exponential backoff and jitter, up to MAX_ATTEMPTS; a
permanent one (SMTP 5xx, an address the server cannot take) fails at once. When the
server cannot be reached, the rest of the batch goes back, due again with no attempt
counted: the next message would only wait out the same timeout. The vendor sees a
fixed sentence (server.mail.transport); the server's reply and the error are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from server.core.db import utcnow
from server.core.tasks import cancel_and_wait
from server.core.unit_of_work import UnitOfWorkFactory
from server.mail.message import build_message
from server.mail.models import OutgoingEmail
from server.mail.signals import EMAILS_QUEUED
from server.mail.transport import NOT_SENT, MailFailure, Transport

log = logging.getLogger("vendorbell.mail")

POLL_SECONDS = 5.0  # the safety net: a signal wakes the loop at once
BATCH = 20
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30.0  # after the first failure; doubling up to MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 3600.0
LEASE_MARGIN_SECONDS = 30.0  # a lease outlasts the longest send by this much


_DUE = select(OutgoingEmail.id).where(OutgoingEmail.status == "queued").limit(1)


def backoff(attempts: int, first: float = BACKOFF_SECONDS) -> float:
    """Seconds before the next try after `attempts` tries (±20 % so retries spread out)."""
    base = min(MAX_BACKOFF_SECONDS, first * 2.0 ** max(0, attempts - 1))
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
        backoff_seconds: float | None = None,
    ) -> None:
        settings = units.settings
        self.units = units
        self.transport = transport
        # Longer than one send can take, so a send never outlives the lease it renewed.
        send = transport.session_seconds
        self.lease_seconds = lease_seconds or send + LEASE_MARGIN_SECONDS
        if self.lease_seconds <= send:
            raise ValueError(
                f"a mail lease ({self.lease_seconds} s) must outlast a send ({send} s)"
            )
        self.poll_seconds = poll_seconds
        self.drain_seconds = settings.drain_seconds if drain_seconds is None else drain_seconds
        self.backoff_seconds = BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
        # Unique per worker: the lease's owner. (The pid and host are for people reading.)
        self.name = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.interrupted = False  # the last batch stopped at a server that did not answer
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.units.signals[EMAILS_QUEUED].connect(self._committed)
        self._task = asyncio.create_task(self._run(), name="mail")
        log.info("mail.started", extra={"transport": self.transport.describe()})

    async def stop(self) -> None:
        """Stop claiming, let the email being sent finish (up to DRAIN_SECONDS), then
        hand back the rows claimed but not sent. A send cut off at the deadline is handed
        back too: it may have reached the server, but its lease would run out anyway."""
        self.units.signals[EMAILS_QUEUED].disconnect(self._committed)
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            _, pending = await asyncio.wait([self._task], timeout=self.drain_seconds)
            await cancel_and_wait(pending)  # a stop must end (server.core.tasks)
        await self.release()

    def _committed(self, _: list[int]) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("mail.loop_failed")
                claimed = 0
            # After a batch cut short by an unreachable server, wait before trying again.
            if (claimed < BATCH or self.interrupted) and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def run_once(self, now: datetime | None = None) -> int:
        """Claim what is due at `now` (default: the clock) and send it; how many rows were
        claimed. What was claimed but not sent goes back. Tests call this with the time
        they want."""
        rows = await self.claim(BATCH, now)
        self.interrupted = False
        for row in rows:
            if self._stopping or not await self._send(row):
                self.interrupted = not self._stopping
                break
        if rows:
            await self.release()
        return len(rows)

    async def claim(self, limit: int, now: datetime | None = None) -> list[OutgoingEmail]:
        """Lease up to `limit` due rows to this worker (an attempt is counted per send)."""
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
                    .values(due_at=lease, lease_until=lease, leased_by=self.name)
                    .returning(t)
                    .execution_options(synchronize_session=False)
                )
            )
            await uow.commit()
        return sorted(rows, key=lambda row: (row.due_at, row.id))

    async def _renew(self, email_id: int) -> int | None:
        """Renew the row's lease for one send and count the attempt: the attempts so far,
        or None when this worker no longer holds the row (its lease ran out; another
        worker may have it)."""
        t = OutgoingEmail
        now = utcnow()
        lease = now + timedelta(seconds=self.lease_seconds)
        async with self.units.writer() as uow:
            attempts = await uow.session.scalar(
                update(t)
                .where(
                    t.id == email_id,
                    t.status == "queued",
                    t.leased_by == self.name,
                    t.lease_until > now,
                )
                .values(due_at=lease, lease_until=lease, attempts=t.attempts + 1)
                .returning(t.attempts)
            )
            await uow.commit()
        return attempts

    async def _send(self, row: OutgoingEmail) -> bool:
        """Send one row under a renewed lease; False when the server could not be reached."""
        attempts = await self._renew(row.id)
        if attempts is None:
            log.info("mail.lease_lost", extra={**_context(row), "worker": self.name})
            return True
        settings = self.units.settings
        message = build_message(row, sender=settings.mail_sender, public_url=settings.public_url)
        try:
            await self.transport.send(message)
        except MailFailure as failure:
            await self._record_failure(row, attempts, failure)
            return not failure.connection
        except Exception as exc:  # a bug of ours: kept visible on the row, and retried
            log.exception("mail.send_crashed", extra={"email_id": row.id})
            crash = MailFailure(type(exc).__name__, permanent=False, shown=NOT_SENT)
            await self._record_failure(row, attempts, crash)
            return True
        if await self._record(row.id, status="sent", sent_at=utcnow(), last_error=None):
            log.info("mail.sent", extra={**_context(row), "attempts": attempts})
        return True

    async def _record_failure(
        self, row: OutgoingEmail, attempts: int, failure: MailFailure
    ) -> None:
        context = {**_context(row), "reason": failure.reason, "attempts": attempts}
        if failure.permanent or attempts >= MAX_ATTEMPTS:
            if await self._record(row.id, status="failed", last_error=failure.shown):
                log.warning("mail.failed", extra=context)
            return
        delay = backoff(attempts, self.backoff_seconds)
        due = utcnow() + timedelta(seconds=delay)
        if await self._record(row.id, status="queued", due_at=due, last_error=failure.shown):
            log.info("mail.retry", extra={**context, "in": delay})

    async def _record(self, email_id: int, **values: object) -> bool:
        """Write an outcome, only while this worker holds the row; whether it did."""
        t = OutgoingEmail
        async with self.units.writer() as uow:
            result = await uow.session.execute(
                update(t)
                .where(t.id == email_id, t.leased_by == self.name)
                .values(lease_until=None, leased_by=None, **values)
            )
            await uow.commit()
        if int(getattr(result, "rowcount", 0) or 0):
            return True
        log.warning("mail.outcome_dropped", extra={"email_id": email_id, "worker": self.name})
        return False

    async def release(self) -> None:
        """Hand back rows this worker claimed but did not send: due at once, and no
        attempt counted (one is counted only when a send begins)."""
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
