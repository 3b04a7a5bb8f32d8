"""The delivery worker: claims due outbox rows as leases, sends them, records outcomes.

Leases are written into the row itself (server.push.claims), so a row held by a
worker that died simply becomes due again; PostgreSQL workers share the queue, SQLite
runs one worker. Each push service has its own queue, concurrency and breaker
(server.push.services): rows for one that is paused, open or backed up go back to the
outbox, due later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import replace

from sqlalchemy import update

from server.core.config import Settings
from server.core.db import Database, utcnow
from server.core.hooks import Hooks
from server.core.signals import Signals
from server.core.tasks import cancel_and_wait
from server.core.unit_of_work import UnitOfWorkFactory
from server.push.attempts import Circuit, forget_circuits, record_circuits
from server.push.claims import claim_due
from server.push.crypto_pool import EncryptionPool, auto_processes
from server.push.endpoints import EndpointTarget, PushURL
from server.push.keys import KeyStore, VapidKey
from server.push.outbox import DELIVERIES_QUEUED
from server.push.outcomes import DELIVERIES, backoff, count_outcome, record_outcomes
from server.push.sender import UNUSABLE_KEYS, Job, Outcome, Request, Sender
from server.push.services import OPEN, ServiceState, service_rules

log = logging.getLogger("vendorbell.push")

LEASE_SECONDS = 60.0
POLL_SECONDS = 1.0
FLUSH_DELAY = 0.05  # outcomes are recorded in batches; the push itself is already sent
ENCRYPT_BATCH = 32  # claimed rows encrypted together (inline, or in one pooled process)
WATCH_SECONDS = 0.5  # how often backed-up services hand their extra rows back
MAX_SERVICES = 4096  # idle push services beyond this are forgotten

# A claimed row on its way to encryption: where it goes, its key, its endpoint parsed,
# its push service.
Claimed = tuple[Job, EndpointTarget, VapidKey, PushURL, ServiceState]


class DeliveryWorker:
    """Sends queued deliveries until stopped; safe to run in several processes (PostgreSQL)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        keys: KeyStore,
        *,
        signals: Signals | None = None,
        sender: Sender | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        hooks: Hooks | None = None,
        units: UnitOfWorkFactory | None = None,
    ) -> None:
        self.database = database
        self.units = units  # the process's, to record outcomes in (see _flush)
        self.settings = settings
        self.keys = keys
        self.signals = signals
        self.hooks = hooks  # for the outcomes it records (server.push.outcomes)
        self.sender = sender or Sender(settings, keys)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}:{id(self) % 10000}"
        self.concurrency = max(1, settings.worker_concurrency)  # pushes in flight in all
        self.rules = service_rules(settings)
        processes = settings.push_encrypt_processes
        self.pool = EncryptionPool(auto_processes() if processes is None else processes)
        # Claimed rows wait in `_queue` to be encrypted, then in their push service's
        # `ready` queue for a slot. Claims come in batches of ≥ 1/2 of the capacity, deep
        # enough that senders keep busy while the next claim is on its way, and large
        # enough to spread a claim's fixed cost (~2 ms of CPU on SQLite, three sessions:
        # 128-row claims cost 22 µs a row, 256-row ones 15); `_backlog` counts rows in
        # these queues (not those in flight).
        self._capacity = self.concurrency * 8
        self._claim_at = self._capacity // 2  # room that wakes the claim loop
        self._queue: asyncio.Queue[Claimed] = asyncio.Queue()
        self._services: dict[str, ServiceState] = {}
        self._backlog = 0
        self._running = 0  # pushes in flight, all services
        self._starved: dict[str, ServiceState] = {}  # waiting for a slot of the worker's
        self._posting: set[asyncio.Task[None]] = set()
        self._encrypters: list[asyncio.Task[None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._results: list[tuple[Job, Outcome]] = []
        self._stopping = False
        self._main: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._results_ready = asyncio.Event()
        self._flush_stop = False
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._signalled: list[int] = []  # ids committed in this process, not yet claimed
        self._full = False  # the last search for due rows found as many as it could take
        # Breakers as last written to push_circuits, and those answered since (the
        # console reads them: server.push.attempts).
        self._circuits: dict[str, Circuit] = {}
        self._answered_by: dict[str, ServiceState] = {}

    async def start(self) -> None:
        if self.signals is not None:
            self.signals[DELIVERIES_QUEUED].connect(self._committed)
        self._main = asyncio.create_task(self._run(), name="push-worker")
        self._flusher = asyncio.create_task(self._flush_loop(), name="push-worker-flush")
        self._watcher = asyncio.create_task(self._watch_loop(), name="push-worker-services")
        # One batch per encryption process, and one more being prepared meanwhile.
        self._encrypters = [
            asyncio.create_task(self._encrypt_loop(), name=f"push-encrypt-{n}")
            for n in range(self.pool.processes + 1)
        ]

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish (up to DRAIN_SECONDS), record them,
        release the rest."""
        if self.signals is not None:
            self.signals[DELIVERIES_QUEUED].disconnect(self._committed)
        self._stopping = True
        self._wake.set()
        self._room.set()
        if self._main is not None:
            await self._main
        # Unsent rows are released below. cancel_and_wait: a stop must end (core.tasks).
        await cancel_and_wait([t for t in (*self._encrypters, self._watcher) if t is not None])
        # Senders take no new push once stopping: wait for those in flight.
        posting = set(self._posting)
        if posting:
            _, pending = await asyncio.wait(posting, timeout=self.settings.drain_seconds)
            await cancel_and_wait(pending)
        if self._flusher is not None:
            # Let a flush in progress commit: cancelling it mid-transaction made the
            # connection pool log a failed reset (the outcomes were kept and rewritten).
            self._flush_stop = True
            self._results_ready.set()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._flush()
        await self._release()
        await self.sender.close()
        await self.pool.close()

    async def _run(self) -> None:
        while not self._stopping:
            room = self._capacity - self._backlog
            if room < self._claim_at:
                self._room.clear()
                await self._room.wait()
                continue
            self._wake.clear()
            signalled, self._signalled = self._signalled[:room], self._signalled[room:]
            try:
                # Rows this process just committed are claimed by id: no search for due
                # rows first, so an order's push leaves within milliseconds.
                if signalled:
                    jobs = await self.claim(room, signalled)
                else:
                    jobs = await self.claim(room, probe=not self._full)
                    self._full = len(jobs) == room  # a full claim: more are likely due
            except Exception:
                log.exception("push.worker.claim_failed")
                jobs = []
                self._full = False
            self._enqueue(jobs)
            if signalled:
                continue  # then a regular claim: other rows may be due too
            if len(jobs) < room and not self._stopping and not self._signalled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    def _enqueue(self, jobs: list[Job]) -> None:
        """Settle the rows that cannot be sent, hand back those their push service cannot
        take now, and queue the rest for encryption."""
        now = time.time()
        accepted = 0
        for job in jobs:
            checked = self.sender.screen(job, now)
            if isinstance(checked, Outcome):
                self._done(job, checked)
                continue
            target, key, url = checked
            service = self._service(target.origin)
            crowded = (self._backlog + accepted) * 2 >= self._capacity
            if service.queued >= service.may_wait(now, crowded):
                service.count_deferred(1)
                self._done(job, self._deferred(service, now))
                continue
            service.queued += 1
            accepted += 1
            self._queue.put_nowait((job, target, key, url, service))
        self._backlog += accepted

    def _crowded(self) -> bool:
        """The backlog is half full: slow services' extra rows go back to the outbox."""
        return self._backlog * 2 >= self._capacity

    def _service(self, origin: str) -> ServiceState:
        found = self._services.get(origin)
        if found is None:
            found = self._services[origin] = ServiceState(origin, self.rules)
        return found

    def _deferred(self, service: ServiceState, now: float) -> Outcome:
        """Back to the outbox unsent, due when `service` may take it."""
        return Outcome("deferred", retry_after=service.defer_seconds(now), service=service.name)

    def _done(self, job: Job, outcome: Outcome) -> None:
        count_outcome(outcome, job)
        self._results.append((job, outcome))
        self._results_ready.set()

    def _took(self, rows: int) -> None:
        """`rows` left the backlog (sent, or settled without sending). The claim loop is
        woken once there is room for a claim, not for every row."""
        self._backlog -= rows
        if self._capacity - self._backlog >= self._claim_at:
            self._room.set()

    async def _encrypt_loop(self) -> None:
        """Take a batch of claimed rows, encrypt it (inline or in the pool) and queue the
        requests with their push services."""
        while not self._stopping:
            items = [await self._queue.get()]
            while len(items) < ENCRYPT_BATCH and not self._queue.empty():
                items.append(self._queue.get_nowait())
            await self._encrypt(items)

    async def _encrypt(self, items: list[Claimed]) -> None:
        """Rows whose keys are unusable are settled here."""
        payload = self.sender.payload
        batch = [(payload(job), job.p256dh or "", job.auth or "") for job, *_ in items]
        try:
            bodies = await self.pool.encrypt(batch)
        except Exception:
            # Not the rows' fault: they are retried later rather than stall the loop.
            log.exception("push.worker.encrypt_failed")
            for job, _, _, _, service in items:
                service.queued -= 1
                self._took(1)
                self._done(job, Outcome("retry", reason="internal error before sending"))
            return
        touched: dict[str, ServiceState] = {}
        for (job, target, key, url, service), body in zip(items, bodies, strict=True):
            if body is None:
                service.queued -= 1
                self._took(1)
                self._done(job, Outcome("failed", reason=UNUSABLE_KEYS))
            else:
                service.ready.append(self.sender.request(job, target, key, body, url))
                touched[service.origin] = service
        for service in touched.values():
            self._pump(service)

    def _pump(self, service: ServiceState) -> None:
        """Start senders for `service`'s waiting pushes, as many as it and the worker allow
        (none while it is open: its waiting rows go back to the outbox)."""
        if self._stopping:
            return
        now = time.time()
        slots = service.slots(now)
        if not slots:
            self._shed(service, now, keep=0)
            return
        while service.ready and service.in_flight < slots:
            if self._running >= self.concurrency:
                self._starved[service.origin] = service  # the next sender to finish yields
                return
            request = self._next(service, now)
            self._running += 1
            task = asyncio.create_task(self._send(service, request))
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)

    def _next(self, service: ServiceState, now: float) -> Request:
        request = service.ready.popleft()
        service.queued -= 1
        self._took(1)
        service.sending(now)
        return request

    async def _send(self, service: ServiceState, request: Request) -> None:
        """POST `request`, then `service`'s next waiting pushes while it has a slot."""
        try:
            while True:
                started = time.time()
                outcome = await self.sender.post(request)
                now = time.time()
                self._answered(service, request.job, outcome, now, now - started)
                slots = service.slots(now)
                # Stop when its slots are taken, or to yield to a service that has none.
                if self._stopping or self._starved or service.in_flight >= slots:
                    break
                if not service.ready:
                    break
                request = self._next(service, now)
                if service.ready and service.in_flight < slots:
                    self._pump(service)  # more slots than senders: a probe went well
        finally:
            self._running -= 1
        if self._starved:  # the worker's slot goes to a service that had none
            starved, self._starved = self._starved, {}
            for other in starved.values():
                self._pump(other)
        if service.ready:
            self._pump(service)

    def _answered(
        self, service: ServiceState, job: Job, outcome: Outcome, now: float, seconds: float
    ) -> None:
        """Note the outcome; a retry waits at least until its service's pause ends."""
        paused = service.answered(outcome, now, seconds)
        # Built as is: dataclasses.replace looks the fields up on every call (2.6 µs a push
        # against 1.2 here).
        outcome = Outcome(
            outcome.kind, outcome.status, outcome.reason, outcome.retry_after, outcome.service,
            seconds,
        )  # fmt: skip
        self._answered_by[service.name] = service
        if outcome.kind == "retry" and service.state == OPEN and service.not_before > now:
            wait = max(backoff(job.attempts, outcome.retry_after), service.not_before - now)
            outcome = replace(outcome, retry_after=wait)
        self._done(job, outcome)
        if paused:
            log.warning(
                "push.service.paused",
                extra={"service": service.name, "seconds": round(service.not_before - now, 1)},
            )
            self._shed(service, now, keep=0)
            # Claim the rows handed back as soon as they are due.
            loop = asyncio.get_running_loop()
            # (+ a moment: their due time is written by the next flush, a little later)
            loop.call_later(service.not_before - now + 4 * FLUSH_DELAY, self._wake.set)

    def _shed(self, service: ServiceState, now: float, keep: int) -> None:
        """Hand `service`'s waiting pushes beyond `keep` back to the outbox, newest first."""
        excess = len(service.ready) - max(0, keep)
        if excess <= 0:
            return
        outcome = self._deferred(service, now)
        for _ in range(excess):
            self._done(service.ready.pop().job, outcome)
        service.queued -= excess
        service.count_deferred(excess)
        self._took(excess)

    async def _watch_loop(self) -> None:
        """When the backlog is crowded, hand back the extra rows of services that got
        slow; forget idle services."""
        while not self._stopping:
            await asyncio.sleep(WATCH_SECONDS)
            now = time.time()
            for service in list(self._services.values()) if self._crowded() else []:
                if service.ready:
                    encrypting = service.queued - len(service.ready)
                    keep = service.may_wait(now, crowded=True) - encrypting
                    self._shed(service, now, keep)
            if len(self._services) > MAX_SERVICES:
                for origin, service in list(self._services.items()):
                    if not (service.queued or service.in_flight or service.state):
                        del self._services[origin]
                        self._circuits.pop(service.name, None)

    def _committed(self, delivery_ids: list[int]) -> None:
        """Deliveries were committed in this process: claim them now, by id."""
        self._signalled.extend(delivery_ids)
        self._wake.set()

    async def claim(
        self, limit: int, ids: list[int] | None = None, *, probe: bool = True
    ) -> list[Job]:
        """Lease up to `limit` due rows to this worker; with `ids`, only those of them
        that are still due (`probe`: see claim_due)."""
        return await claim_due(
            self.database, self.name, self.lease_seconds, limit, ids, probe=probe
        )

    async def _flush_loop(self) -> None:
        while not self._flush_stop:  # once stopping, stop() writes what is left
            await self._results_ready.wait()
            if self._flush_stop:
                return
            # Gather outcomes for a moment: one transaction for many rows.
            await asyncio.sleep(FLUSH_DELAY)
            self._results_ready.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("push.worker.record_failed")
                await asyncio.sleep(1)

    async def _flush(self) -> None:
        results, self._results = self._results, []
        if not results:
            return
        answered, self._answered_by = self._answered_by, {}
        circuits = self._changed_circuits(answered)
        try:
            if self.units is None:
                async with self.database.writer() as session:
                    await record_outcomes(session, results, self.hooks)
                    await record_circuits(session, self.name, circuits, utcnow())
                    await session.commit()
            else:
                # In a unit of work, what the outcome hooks write may signal once committed
                # (a webhook event wakes the webhook loop instead of waiting for its poll).
                async with self.units.writer() as uow:
                    await record_outcomes(uow.session, results, self.hooks)
                    await record_circuits(uow.session, self.name, circuits, utcnow())
                    await uow.commit()
        except BaseException:
            self._results[:0] = results  # try again with the next batch
            self._answered_by = answered | self._answered_by
            raise
        self._circuits.update((c.service, c) for c in circuits)

    def _changed_circuits(self, answered: dict[str, ServiceState]) -> list[Circuit]:
        """The breakers answered since the last flush whose state or pause changed."""
        changed = []
        for name, service in answered.items():
            circuit = Circuit(name, service.state, service.not_before, service.failures)
            last = self._circuits.get(name)
            if last is None or (last.state, last.not_before) != (circuit.state, circuit.not_before):
                changed.append(circuit)
        return changed

    async def _release(self) -> None:
        """Hand back rows this worker claimed but did not finish (SIGTERM, shutdown)."""
        t = DELIVERIES
        async with self.database.writer() as session:
            result = await session.execute(
                update(t)
                .where(t.c.leased_by == self.name, t.c.status == "queued")
                .values(due_at=utcnow(), lease_until=None, leased_by=None)
            )
            await forget_circuits(session, self.name)
            await session.commit()
        released = int(getattr(result, "rowcount", 0) or 0)
        if released:
            log.info("push.worker.released", extra={"worker": self.name, "rows": released})
