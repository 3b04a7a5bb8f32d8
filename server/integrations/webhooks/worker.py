"""The webhook worker: claims due events, sends them, records what each answer means.

2xx: delivered. Anything else (a 3xx included: redirects are not followed), a timeout
or a refused connection: tried again after an exponential backoff with jitter (30 s,
1 min, 2 min, … at most an hour apart) until the event is a day old, then failed. A URL
that may not be reached (a private address, WEBHOOK_ALLOWED_HOSTS changed) fails at
once. A claim is a lease: a worker killed mid-send leaves the row to be claimed again
when the lease runs out, so an event may arrive twice, never not at all.

An event committed anywhere wakes the loop at once (the outbox's `WEBHOOKS_QUEUED`
signal, relayed between processes with REDIS_URL); the poll is the safety net for a
lost signal, a retry coming due and an event written without a unit of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from server.core.db import utcnow
from server.core.tasks import cancel_and_wait
from server.core.unit_of_work import UnitOfWorkFactory
from server.integrations.models import Integration
from server.integrations.webhooks import sender
from server.integrations.webhooks.models import WebhookDelivery
from server.integrations.webhooks.outbox import WEBHOOKS_QUEUED
from server.push.endpoints import RefusedAddress

log = logging.getLogger("vendorbell.webhooks")

BATCH = 50
LEASE = timedelta(seconds=60)  # longer than a send's two bounded waits
POLL_SECONDS = 5.0  # the safety net: a signal wakes the loop at once
BACKOFF_BASE, BACKOFF_CAP = 30.0, 3600.0


def backoff(attempts: int) -> float:
    base = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(attempts - 1, 12))
    return random.uniform(base / 2, base)


@dataclass
class Job:
    id: int
    event_id: str
    type: str
    body: bytes
    url: str | None
    attempts: int
    give_up_at: datetime
    signer: sender.Signer | None


@dataclass
class Result:
    job: Job
    status: int | None
    error: str | None
    refused: bool = False


async def claim(units: UnitOfWorkFactory, secret_key: str, at: datetime) -> list[Job]:
    """Lease up to BATCH due events (one transaction), with their URL and signing key."""
    t = WebhookDelivery
    async with units.writer() as uow:
        ids = list(
            await uow.session.scalars(
                select(t.id)
                .where(t.status == "queued", t.due_at <= at)
                .where(or_(t.lease_until.is_(None), t.lease_until < at))
                .order_by(t.due_at)
                .limit(BATCH)
            )
        )
        if not ids:
            return []
        claimed = await uow.session.execute(
            update(t)
            .where(t.id.in_(ids), t.status == "queued")
            .where(or_(t.lease_until.is_(None), t.lease_until < at))
            .values(lease_until=at + LEASE, attempts=t.attempts + 1)
            .returning(t.id, t.event_id, t.type, t.body, t.integration_id, t.attempts, t.give_up_at)
        )
        jobs = []
        signers: dict[str, sender.Signer | None] = {}
        for id, event_id, type, body, integration_id, attempts, give_up_at in claimed.all():
            if integration_id not in signers:
                signers[integration_id] = await sender.signer_for(
                    uow.session, integration_id, secret_key
                )
            url = await uow.session.scalar(
                select(Integration.webhook_url).where(Integration.id == integration_id)
            )
            jobs.append(
                Job(
                    id,
                    event_id,
                    type,
                    body.encode(),
                    url,
                    attempts,
                    give_up_at,
                    signers[integration_id],
                )
            )
        await uow.commit()
    return jobs


async def send(client: sender.WebhookClient, job: Job) -> Result:
    if job.url is None:
        return Result(job, None, "the integration no longer has a webhook URL", refused=True)
    if job.signer is None:
        return Result(job, None, "the integration has no active HMAC key to sign with")
    request_headers = sender.headers(job.signer, job.event_id, job.type, job.body, sender.now())
    try:
        status = await client.send(job.url, request_headers, job.body)
    except RefusedAddress as exc:
        return Result(job, None, str(exc)[:300], refused=True)
    except (OSError, TimeoutError) as exc:
        return Result(job, None, (str(exc) or type(exc).__name__)[:300])
    if 200 <= status < 300:
        return Result(job, status, None)
    reason = "redirect not followed" if 300 <= status < 400 else f"answered {status}"
    return Result(job, status, reason)


async def record(units: UnitOfWorkFactory, results: list[Result], at: datetime) -> None:
    t = WebhookDelivery
    async with units.writer() as uow:
        for r in results:
            values: dict[str, object] = {
                "lease_until": None,
                "last_status": r.status,
                "error": r.error,
            }
            if r.error is None:
                values.update(status="delivered", delivered_at=at)
            else:
                due = at + timedelta(seconds=backoff(r.job.attempts))
                failed = r.refused or due >= r.job.give_up_at
                values.update(status="failed" if failed else "queued", due_at=due)
                log.warning(
                    "webhook.send.failed",
                    extra={"event": r.job.event_id, "status": r.status, "reason": r.error},
                )
            await uow.session.execute(update(t).where(t.id == r.job.id).values(**values))
        await uow.commit()


async def deliver_due(
    units: UnitOfWorkFactory, client: sender.WebhookClient, secret_key: str
) -> int:
    """One round: claim what is due, send it concurrently, record the answers."""
    jobs = await claim(units, secret_key, utcnow())
    if not jobs:
        return 0
    results = await asyncio.gather(*(send(client, job) for job in jobs))
    await record(units, list(results), utcnow())
    return len(jobs)


class WebhookWorker:
    """The loop (server.background, roles all and worker): a round when an event is
    committed, else every `poll_seconds`, and at once again while a round found a full
    batch."""

    def __init__(
        self, units: UnitOfWorkFactory, secret_key: str, *, poll_seconds: float | None = None
    ) -> None:
        self.units = units
        self.secret_key = secret_key
        self.poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self.client = sender.WebhookClient(units.settings)
        self.rounds = 0  # rounds finished (tests wait for the loop to be idle)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self.units.signals[WEBHOOKS_QUEUED].connect(self._committed)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        self.units.signals[WEBHOOKS_QUEUED].disconnect(self._committed)
        if self._task is not None:
            await cancel_and_wait([self._task])
        await self.client.close()

    def _committed(self, _: list[int]) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            # Cleared before the round: an event committed while it runs wakes the next.
            self._wake.clear()
            try:
                sent = await deliver_due(self.units, self.client, self.secret_key)
            except Exception:
                log.exception("webhook.round_failed")
                sent = 0
            self.rounds += 1
            if sent < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
