"""The unit of work: one transaction, and everything a service may need beside it.

A request (server.accounts.deps), a background loop (server.background) or a CLI
command opens one with `UnitOfWorkFactory.reader()` / `.writer()`, passes it to the
services it calls, and ends it with `commit()`. Services take what they use from it, visibly:
`uow.session`, `uow.settings`, `uow.caches`, `uow.hub`, `uow.signals`, `uow.hooks`
(what features above registered for a lower one's hooks, server.core.hooks), `uow.local(key)`
for what one feature keeps for the length of the unit, and `uow.after_commit(hook)` for
work that must only follow a committed change (a live event, a cache invalidation, a
signal to this process's background loops). Nothing here knows a feature: the hub is
the `LiveHub` protocol (server.realtime implements it), and a feature's per-unit state
is declared by the feature as a `UnitLocal`.

The hooks hang on SQLAlchemy's own `after_commit` session event, so no commit can
skip them, whoever calls it; a rollback drops them. `commit()` waits for them to run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from server.core.cache import Caches, GenerationalCache
from server.core.config import Settings
from server.core.db import Database
from server.core.hooks import Hooks
from server.core.signals import Signals

log = logging.getLogger("vendorbell.db")

AfterCommit = Callable[[], Awaitable[None]]
T = TypeVar("T")


class LiveHub(Protocol):
    """What services ask of the realtime hub (server.realtime.hub implements it)."""

    async def publish(self, user_id: int, message: dict[str, Any]) -> None: ...

    async def end_sessions(self, user_id: int, token_digest: str) -> None: ...


class UnitLocal(Generic[T]):
    """A value one feature keeps per unit of work, made by `make` when first asked for
    (`uow.local(key)`); it ends with the unit."""

    def __init__(self, make: Callable[[], T]) -> None:
        self.make = make


class _UnitSession(Session):
    """The synchronous session under a unit of work's AsyncSession; knows its unit."""

    unit: UnitOfWork | None = None


class Shared:
    """What every unit of one process carries beside its session: settings, caches, hub,
    signals and hooks (the factory holds them and hands them to each unit it opens)."""

    __slots__ = ("caches", "hooks", "hub", "settings", "signals")

    def __init__(
        self,
        settings: Settings,
        caches: Caches | None,
        hub: LiveHub,
        signals: Signals,
        hooks: Hooks | None = None,
    ) -> None:
        self.settings = settings
        self.caches = caches
        self.hub = hub
        self.signals = signals
        self.hooks = hooks or Hooks()


class UnitOfWork(Shared):
    """A session plus settings, caches, hub, signals and hooks, with after-commit hooks.

    The session is opened on first use: a request answered from the caches (the inbox's
    count, a cached token) never makes one, nor closes one (a task and a greenlet switch),
    which measured about a tenth of such a request's CPU."""

    __slots__ = ("_invalidations", "_locals", "_maker", "_pending", "_running", "_session")

    def __init__(self, maker: async_sessionmaker[AsyncSession], shared: Shared) -> None:
        super().__init__(shared.settings, shared.caches, shared.hub, shared.signals, shared.hooks)
        self._maker = maker
        self._session: AsyncSession | None = None
        self._locals: dict[UnitLocal[Any], Any] = {}
        self._pending: list[AfterCommit] = []
        self._invalidations: list[tuple[GenerationalCache[Any], Hashable]] | None = None
        self._running: list[asyncio.Task[None]] = []

    @property
    def session(self) -> AsyncSession:
        """This unit's session (opened now if it is the first use)."""
        session = self._session
        if session is None:
            session = self._session = self._maker()
            sync = session.sync_session
            assert isinstance(sync, _UnitSession), "open units through UnitOfWorkFactory"
            sync.unit = self
        return session

    def local(self, key: UnitLocal[T]) -> T:
        """This unit's value for `key` (made on first use)."""
        if key not in self._locals:
            self._locals[key] = key.make()
        return cast(T, self._locals[key])

    def after_commit(self, hook: AfterCommit) -> None:
        """Run `hook` once this unit's transaction has committed (never on rollback)."""
        self._pending.append(hook)

    def invalidate_after_commit(self, cache: GenerationalCache[Any], *keys: Hashable) -> None:
        """Drop `keys` from `cache` once this transaction's change is visible to readers,
        in every process (server.cluster.cache_sync); a transaction's keys go out as one
        message."""
        caches = self.caches
        if caches is None or not keys:
            return
        if self._invalidations is None:
            batch: list[tuple[GenerationalCache[Any], Hashable]] = []
            self._invalidations = batch

            async def invalidate() -> None:
                await caches.invalidate_committed(batch)

            self.after_commit(invalidate)
        self._invalidations.extend((cache, key) for key in keys)

    async def commit(self) -> None:
        """Commit, then wait for the after-commit hooks to have run.

        A unit that never began a transaction and holds nothing to flush or run (a read
        answered from the caches: the inbox's count) skips the commit, which costs a
        greenlet switch and measured about a sixth of such a request's CPU. Hooks without
        a session still run as a commit's would."""
        if self._session is None and not self._pending:
            await self._drain()
            return
        session = self.session
        sync = session.sync_session
        if sync.in_transaction() or self._pending or sync.new or sync.dirty or sync.deleted:
            await session.commit()
        await self._drain()

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def close(self) -> None:
        """Close the session, if one was opened (shielded, as AsyncSession's own exit:
        a cancelled request still returns its connection)."""
        if self._session is not None:
            await self._session.__aexit__(None, None, None)

    def _committed(self) -> None:
        hooks, self._pending, self._invalidations = self._pending, [], None
        if hooks:
            self._running.append(asyncio.get_running_loop().create_task(_run(hooks)))

    def _rolled_back(self) -> None:
        self._pending.clear()
        self._invalidations = None

    async def _drain(self) -> None:
        running, self._running = self._running, []
        for task in running:
            await task


async def _run(hooks: list[AfterCommit]) -> None:
    for hook in hooks:
        try:
            await hook()
        except Exception:
            # The change is committed whatever a follower does; the database stays the
            # source of truth (clients resync, the worker polls).
            log.exception("db.after_commit_failed")


def unit_of(session: AsyncSession) -> UnitOfWork | None:
    """The unit of work `session` belongs to, for code handed only the session (a hook's
    caller may have opened it without one: then None)."""
    unit = getattr(session.sync_session, "unit", None)
    return unit if isinstance(unit, UnitOfWork) else None


@event.listens_for(_UnitSession, "after_commit")
def _after_commit(session: Session) -> None:
    unit = getattr(session, "unit", None)
    if unit is not None:
        unit._committed()


@event.listens_for(_UnitSession, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    unit = getattr(session, "unit", None)
    if unit is not None and previous_transaction.parent is None:  # the outermost one
        unit._rolled_back()


class UnitOfWorkFactory(Shared):
    """Opens units of work on one database, with the process's caches, hub and signals."""

    def __init__(self, database: Database, shared: Shared) -> None:
        super().__init__(shared.settings, shared.caches, shared.hub, shared.signals, shared.hooks)
        self.database = database
        self._reader = async_sessionmaker(
            database.read_engine, expire_on_commit=False, sync_session_class=_UnitSession
        )
        self._writer = async_sessionmaker(
            database.write_engine, expire_on_commit=False, sync_session_class=_UnitSession
        )

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[UnitOfWork]:
        """A unit for reads (on SQLite, the read-only connections)."""
        unit = UnitOfWork(self._reader, self)
        try:
            yield unit
        finally:
            await unit.close()

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[UnitOfWork]:
        """A unit for writes (on SQLite, BEGIN IMMEDIATE). Commit it explicitly; leaving
        without a commit rolls back."""
        unit = UnitOfWork(self._writer, self)
        try:
            yield unit
        finally:
            await unit.close()

    def for_method(self, method: str) -> AbstractAsyncContextManager[UnitOfWork]:
        """reader() for GET/HEAD/OPTIONS, writer() otherwise."""
        return self.reader() if method in ("GET", "HEAD", "OPTIONS") else self.writer()
