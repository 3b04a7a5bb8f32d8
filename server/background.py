"""The one place that starts and stops what runs outside a request, by role.

Every process has the same parts, made here in this order and stopped in the
reverse one: the database, the VAPID keys, the hub (live events; Redis when
REDIS_URL is set), the caches (kept in step across processes through Redis), the
signals, the hooks and the unit-of-work factory. Then the loops its role runs:

| loop              | all | api | worker | what it does                                           |
|-------------------|-----|-----|--------|--------------------------------------------------------|
| token-activity    |  x  |  x  |        | writes batched `last_used_at` bumps of session tokens  |
| delivery          |  x  |     |   x    | claims, encrypts, sends and records push deliveries    |
| digests           |  x  |     |   x    | releases pushes held during quiet hours                |
| broadcasts        |  x  |     |   x    | fans admin broadcasts out, chunk by chunk              |
| key-retiring      |  x  |     |   x    | deletes VAPID keys no subscription uses any more       |
| reminders         |  x  |     |   x    | rings pending orders again; emails unanswered ones     |
| retention         |  x  |     |   x    | deletes finished outbox rows older than RETENTION_DAYS |
| mail              |  x  |     |   x    | claims, sends and records fallback emails (SMTP/.eml)  |
| webhooks          |  x  |     |   x    | claims, signs, sends and records marketplace webhooks  |
| heartbeat         |  x  |     |   x    | records that this process is alive (/metrics reads it) |

`python -m server run` is role "all", `run --role api` serves HTTP and WebSocket only,
and `python -m server worker` runs the worker role without HTTP. The heartbeat starts
last and stops first: a process that is draining takes no new work, so it no longer
counts as an alive worker.

The hooks (server.core.hooks) are how a lower feature hears of a higher one without
importing it; `feature_hooks()` is the one list of who listens to what.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, Literal, Unpack

from server.accounts.tokens import TOKENS, TokenActivity
from server.admin import broadcasts
from server.cluster.cache_sync import RedisCacheSync
from server.cluster.signal_relay import RedisSignalRelay
from server.console import retention
from server.core.cache import Caches
from server.core.config import Settings
from server.core.db import Database, make_database
from server.core.hooks import Hooks
from server.core.links import LINK_BASES
from server.core.metrics import CACHE_INVALIDATIONS
from server.core.signals import Signals
from server.core.tasks import Pace, cancel_and_wait, every
from server.core.unit_of_work import Shared, UnitOfWorkFactory
from server.integrations.links import MARKETPLACE_LINKS, marketplace_link_bases
from server.integrations.registry import EMBED_ORIGINS
from server.integrations.webhooks import channel as webhooks
from server.integrations.webhooks.worker import WebhookWorker
from server.mail.outbox import MailWorker
from server.mail.transport import make_transport
from server.notifications.channels import CHANNELS, PUSH
from server.notifications.counts import COUNTS
from server.notifications.preferences import digest
from server.notifications.preferences.digest import DIGESTED
from server.notifications.preferences.service import PREFERENCES
from server.notifications.service import NOTIFICATION_EVENTS, push_test_notice
from server.ops.heartbeat import Heartbeat
from server.orders.alerts import reminders
from server.orders.alerts.failures import note_failed_pushes
from server.orders.alerts.held import after_digest
from server.push import retiring
from server.push.keys import KeyStore
from server.push.outcomes import PUSHES_DELIVERED, PUSHES_SETTLED
from server.push.subscriptions import DEVICES_CHANGED, TEST_NOTICE
from server.push.worker import DeliveryWorker
from server.realtime.hub import Hub
from server.realtime.hubs import make_hub

log = logging.getLogger("vendorbell.background")


def feature_hooks() -> Hooks:
    """Who listens to a lower feature's hooks: order alerts to failed pushes and to the
    quiet-hours digest, the notification service to the push test; and the channels
    a notification goes out through (server.notifications.channels)."""
    hooks = Hooks()
    hooks.on(PUSHES_SETTLED, note_failed_pushes)
    hooks.on(DIGESTED, after_digest)
    hooks.on(TEST_NOTICE, push_test_notice)
    hooks.on(CHANNELS, PUSH)
    hooks.on(CHANNELS, webhooks.CHANNEL)
    hooks.on(LINK_BASES, marketplace_link_bases)
    hooks.on(PUSHES_SETTLED, webhooks.pushes_settled)
    hooks.on(PUSHES_DELIVERED, webhooks.pushes_delivered)
    hooks.on(NOTIFICATION_EVENTS, webhooks.notification_events)
    hooks.on(DEVICES_CHANGED, webhooks.devices_changed)
    return hooks


# Every cache a process keeps (server.core.cache), declared by its feature.
CACHES = (TOKENS, COUNTS, PREFERENCES, EMBED_ORIGINS, MARKETPLACE_LINKS)

Role = Literal["all", "api", "worker"]
LOOPS: dict[str, tuple[Role, ...]] = {
    "token-activity": ("all", "api"),
    "delivery": ("all", "worker"),
    "digests": ("all", "worker"),
    "broadcasts": ("all", "worker"),
    "key-retiring": ("all", "worker"),
    "reminders": ("all", "worker"),
    "retention": ("all", "worker"),
    "mail": ("all", "worker"),
    "webhooks": ("all", "worker"),
    "heartbeat": ("all", "worker"),
}
# The loops a signal wakes: a process running any of them hears the others' signals.
SIGNALLED_LOOPS = ("delivery", "broadcasts", "mail", "webhooks")


class Runtime:
    """The parts and loops of one process. `start()`, then `stop()` (reverse order)."""

    def __init__(self, settings: Settings, role: Role) -> None:
        self.settings = settings
        self.role = role
        self.running: list[str] = []  # the loops started, in order
        self._stops: list[tuple[str, Callable[[], Awaitable[None]]]] = []

    async def start(self) -> None:
        """The shared parts first (database, keys, hub, caches, signals, the units of
        work), then the loops of this role, in the order they stop in reverse."""
        await self._start_parts()
        await self._start_workers()
        self._start_clock_loops()
        await self._start_outboxes()

    async def _start_parts(self) -> None:
        settings = self.settings
        self.database: Database = make_database(settings)
        self._on_stop("database", self.database.dispose)
        self.keys = KeyStore.load_or_create(settings)
        # The worker role serves no WebSocket: its hub publishes and never listens.
        self.hub: Hub = make_hub(settings, self.database, sockets=self.role != "worker")
        await self.hub.start()
        self._on_stop("hub", self.hub.close)
        # Each process's own caches; with REDIS_URL, every process hears the others'
        # invalidations, and the caches stay closed while it cannot
        # (server.cluster.cache_sync).
        self.caches = Caches(CACHES, shared=bool(settings.redis_url))
        if settings.redis_url:
            sync = RedisCacheSync(
                settings.redis_url,
                settings.redis_channel,
                self.caches,
                on_received=CACHE_INVALIDATIONS.inc,
            )
            await sync.start()
            self._on_stop("cache-sync", sync.close)
        self.signals = Signals()
        if settings.redis_url:  # wake the workers of other processes at once (not a poll)
            relay = RedisSignalRelay(
                settings.redis_url,
                settings.redis_channel,
                self.signals,
                listen=any(self._runs(loop) for loop in SIGNALLED_LOOPS),
            )
            await relay.start()
            self._on_stop("signal-relay", relay.close)
        self.hooks = feature_hooks()
        shared = Shared(settings, self.caches, self.hub, self.signals, self.hooks)
        self.units = UnitOfWorkFactory(self.database, shared)

    async def _start_workers(self) -> None:
        """The token-activity writer and the push delivery worker."""
        settings = self.settings
        self.token_activity: TokenActivity | None = None
        if self._runs("token-activity"):
            activity = self.token_activity = TokenActivity(self.database)
            self._started("token-activity", activity.flush)
        if self._runs("delivery"):
            worker = DeliveryWorker(
                self.database,
                settings,
                self.keys,
                signals=self.signals,
                lease_seconds=settings.push_lease_seconds,
                poll_seconds=settings.push_poll_seconds,
                hooks=self.hooks,
                units=self.units,
            )
            await worker.start()
            self._started("delivery", worker.stop)

    def _start_clock_loops(self) -> None:
        # The passes that run on a clock, each under the one supervision (core.tasks.every).
        units = self.units
        if self._runs("digests"):
            self._every("digests", digest.INTERVAL, partial(digest.release_due, units))
        if self._runs("broadcasts"):  # at once on a broadcast committed here, and on start
            fan_out = partial(broadcasts.fan_out_pending, units)
            wake = broadcasts.fan_out_wake(units)
            self._every("broadcasts", broadcasts.POLL_SECONDS, fan_out, wake=wake, first=True)
        if self._runs("key-retiring"):
            retire = partial(retiring.retire_unused, self.database, self.keys)
            self._every("key-retiring", retiring.RETIRE_EVERY, retire, first=True)
        if self._runs("reminders"):
            self._every("reminders", reminders.POLL_SECONDS, partial(reminders.remind_due, units))
        if self._runs("retention"):  # waits first: a restart loop does not prune each time
            prune = partial(retention.prune, self.database, self.settings)
            self._every("retention", retention.EVERY_SECONDS, prune)

    async def _start_outboxes(self) -> None:
        """The email and webhook outboxes, then the heartbeat that names every loop."""
        settings = self.settings
        if self._runs("mail"):
            mail = MailWorker(self.units, make_transport(settings))
            await mail.start()
            self._started("mail", mail.stop)
        if self._runs("webhooks"):
            webhook_worker = WebhookWorker(self.units, settings.resolved_secret_key())
            await webhook_worker.start()
            self._started("webhooks", webhook_worker.stop)
        if self._runs("heartbeat"):
            heartbeat = Heartbeat(
                self.database, self.role, list(self.running), settings.heartbeat_seconds
            )
            await heartbeat.start()
            self._started("heartbeat", heartbeat.stop)
        log.info("background.started", extra={"role": self.role, "loops": self.running})

    async def stop(self) -> None:
        """Stop loops first (the worker records and releases what it holds), then the
        token writer's last batch, the hub, and the database last."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                await stop()
            except Exception:
                log.exception("background.stop_failed", extra={"part": name})

    def _runs(self, loop: str) -> bool:
        return self.role in LOOPS[loop]

    def _on_stop(self, name: str, stop: Callable[[], Awaitable[None]]) -> None:
        self._stops.append((name, stop))

    def _started(self, name: str, stop: Callable[[], Awaitable[None]]) -> None:
        self.running.append(name)
        self._on_stop(name, stop)

    def _every(
        self, name: str, seconds: float, step: Callable[[], Awaitable[object]], **pace: Unpack[Pace]
    ) -> None:
        self._task(name, every(name, seconds, step, **pace))

    def _task(self, name: str, loop: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(loop, name=name)

        async def cancel() -> None:
            await cancel_and_wait([task])

        self._started(name, cancel)
