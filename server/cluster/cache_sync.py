"""Every process's caches (server.core.cache) hear each committed write of every other process.

Why pub/sub with acknowledgements and a lease, and not plain pub/sub or Redis
client-side caching: a PUBLISH (or a tracked key's invalidation) is acknowledged to the
writer once Redis has queued the message for the subscribers, not once they have read
it. Between the two, a reader process could still serve the old value to a client that
already holds the writer's response. So:

- The writer (an after-commit hook, awaited by `UnitOfWork.commit()` before the
  response is sent) PUBLISHes the transaction's keys on `<channel>:caches`, then waits
  for an acknowledgement from as many subscribers as PUBLISH said received it. Each
  process drops the keys first and acknowledges after, on the writer's own channel.
- Each process PINGs on its subscription every `lease / 5` seconds. Redis answers a
  PING on a subscribed connection in order with the messages, so a PONG proves that
  every invalidation published before the PING was sent has been applied here; the
  caches serve values for `lease` seconds after that moment, and no longer.

The guarantee: once a write's response has been sent, no process serves a value older
than the write. Normally the writer waited for every acknowledgement (about two Redis
round trips). If one is missing after `lease` seconds from the PUBLISH reply (a process
stalled or cut off), the writer stops waiting: the silent process has then proved
nothing newer than the PUBLISH, so its lease has run out and it reads from the
database until a PONG shows it has caught up. The cost to readers is nothing per read.

A lost subscription closes the caches (emptied, bypassed, nothing stored) until a new
one is confirmed: invalidations sent meanwhile are lost to this process, so nothing
from before may be served. If the writer cannot PUBLISH, it retries for up to one lease
while the response waits (a Redis restart or failover), then keeps retrying in the
background until the longest TTL of the keys' caches has run from the commit, and logs
`cache.sync.publish_failed`. The write is committed and cannot be taken back; holding
every write for a minute whenever Redis is away would stop the app, while the other
processes then usually lost Redis too and closed their caches. Only a process cut off
from Redis while the others still reach it can leave them stale, for at most that TTL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from server.cluster.clients import command_client, subscription_client
from server.core.cache import Caches
from server.core.tasks import cancel_and_wait

log = logging.getLogger("vendorbell.cache")

LEASE_SECONDS = 1.0
RETRY_SECONDS = 0.1
REDIS_TIMEOUT = 5.0  # every command's reply; a PONG later than this ends the subscription
MARGIN_SECONDS = 0.01  # waits end a little after a lease, whatever the timer's rounding


class _Acks:
    """Acknowledgements of one published invalidation, counted until all are in."""

    def __init__(self) -> None:
        self.received = 0
        self.expected: int | None = None
        self.done = asyncio.Event()

    def add(self) -> None:
        self.received += 1
        self._check()

    def expect(self, receivers: int) -> None:
        self.expected = receivers
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.received >= self.expected:
            self.done.set()


class RedisCacheSync:
    """Publishes this process's invalidations and applies everyone's (see module doc)."""

    def __init__(
        self,
        url: str,
        channel: str,
        caches: Caches,
        *,
        lease_seconds: float = LEASE_SECONDS,
        on_received: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_received` is called for each invalidation received (the runtime counts
        them in its metrics)."""
        self._url = url
        self._on_received = on_received
        self._channel = f"{channel}:caches"
        self._id = uuid.uuid4().hex
        self._caches = caches
        self._lease = lease_seconds
        self._seq = itertools.count(1)
        self._waiting: dict[int, _Acks] = {}
        self._acks: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._pings: dict[str, float] = {}  # PING message → when it was sent
        self._tasks: set[asyncio.Task[None]] = set()
        self._redis: Any = None
        self._subscriber: Any = None
        self.subscribed = asyncio.Event()  # set while the caches are open

    @property
    def client_name(self) -> str:
        """The subscription's Redis client name."""
        return f"vendorbell-caches-{self._id}"

    def _ack_channel(self, process: str) -> str:
        return f"{self._channel}:ack:{process}"

    async def start(self) -> None:
        """Start subscribing (in the background: the caches stay closed until then)."""
        self._redis = command_client(self._url, timeout=REDIS_TIMEOUT)
        # A gap in the subscription must close the caches, so it never reconnects silently.
        self._subscriber = subscription_client(
            self._url, name=self.client_name, timeout=REDIS_TIMEOUT
        )
        self._caches.peers = self
        self._spawn(self._subscription_loop())
        self._spawn(self._ack_loop())

    async def close(self) -> None:
        self._caches.peers = None
        await cancel_and_wait(list(self._tasks))
        self._caches.close()
        for client in (self._redis, self._subscriber):
            if client is not None:
                await client.aclose()

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # The writer's side.

    async def invalidate(self, entries: Sequence[tuple[str, Hashable]]) -> None:
        """Tell every process to drop `entries`; return once all have, or could not serve
        them any more (module doc)."""
        seq = next(self._seq)
        payload = f"{self._id} {seq} {json.dumps(list(entries))}"
        acks = self._waiting[seq] = _Acks()
        committed_at = time.monotonic()
        try:
            receivers = await self._publish(payload, until=committed_at + self._lease)
            if receivers is None:
                ttl = max(self._caches.by_name[name].ttl_seconds for name, _ in entries)
                self._spawn(self._publish(payload, until=committed_at + ttl))
                return
            replied_at = time.monotonic()
            acks.expect(receivers)
            try:
                wait = self._lease + MARGIN_SECONDS - (time.monotonic() - replied_at)
                async with asyncio.timeout(wait):
                    await acks.done.wait()
            except TimeoutError:
                log.warning(
                    "cache.sync.unacknowledged",
                    extra={"receivers": receivers, "acknowledged": acks.received},
                )
        finally:
            del self._waiting[seq]

    async def _publish(self, payload: str, *, until: float) -> int | None:
        """PUBLISH, retried until `until` (monotonic); how many received it, or None."""
        from redis.exceptions import RedisError

        while True:
            try:
                receivers: int = await self._redis.publish(self._channel, payload)
                return receivers
            except (RedisError, OSError, TimeoutError) as exc:
                if time.monotonic() + RETRY_SECONDS >= until:
                    log.error("cache.sync.publish_failed", extra={"error": str(exc)})
                    return None
            await asyncio.sleep(RETRY_SECONDS)

    # Every process's side.

    async def _subscription_loop(self) -> None:
        from redis.exceptions import RedisError

        delay = 0.5
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await self._subscribe(pubsub)
                delay = 0.5
                self._caches.open()
                self.subscribed.set()
                log.info("cache.sync.subscribed")
                await self._serve(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("cache.sync.disconnected", extra={"error": str(exc)})
            finally:
                self.subscribed.clear()
                self._caches.close()
                self._pings.clear()
                await _close_quietly(pubsub)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _serve(self, pubsub: Any) -> None:
        """Listen and ping until either stops; raise why. Not a TaskGroup: it cancels its
        tasks once, and a cancellation swallowed inside redis-py (server.core.tasks) left
        it waiting forever for a PING loop that went on."""
        loop = asyncio.get_running_loop()
        parts = [loop.create_task(self._listen(pubsub)), loop.create_task(self._ping_loop(pubsub))]
        try:
            done, _ = await asyncio.wait(parts, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(parts)
        for task in done:
            task.result()

    async def _subscribe(self, pubsub: Any) -> None:
        await pubsub.subscribe(self._channel, self._ack_channel(self._id))
        # Wait for both confirmations: from here on every PUBLISH reaches this process.
        async with asyncio.timeout(10):
            confirmed = 0
            while confirmed < 2:
                message = await pubsub.get_message(timeout=1.0)
                confirmed += message is not None and message["type"] == "subscribe"

    async def _listen(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                try:
                    self._receive(message["channel"].decode(), message["data"].decode())
                except (ValueError, TypeError) as exc:
                    # Which keys it named is unknown: forget them all.
                    log.error("cache.sync.unreadable", extra={"error": str(exc)})
                    for cache in self._caches.by_name.values():
                        cache.clear()
            elif message["type"] == "pong":
                sent_at = self._pings.pop(message["data"].decode(), None)
                if sent_at is not None:
                    self._caches.renew(sent_at + self._lease)
        raise ConnectionError("the subscription ended")

    async def _ping_loop(self, pubsub: Any) -> None:
        for n in itertools.count():
            # The oldest PING still unanswered: a subscription whose connection went
            # silent (a blackholed Redis, a stalled proxy) ends here, not never.
            now = time.monotonic()
            if self._pings and now - min(self._pings.values()) > REDIS_TIMEOUT:
                raise TimeoutError(f"no PONG from Redis within {REDIS_TIMEOUT:g} s")
            token = f"{self._id}:{n}"
            self._pings[token] = now
            await pubsub.ping(token)
            await asyncio.sleep(self._lease / 5)

    def _receive(self, channel: str, data: str) -> None:
        if channel != self._channel:  # an acknowledgement of one of ours
            acks = self._waiting.get(int(data))
            if acks is not None:
                acks.add()
            return
        sender, seq, entries = data.split(" ", 2)
        for name, key in json.loads(entries):
            cache = self._caches.by_name.get(name)
            if cache is not None:
                cache.invalidate(key)
        self._on_received()
        self._acks.put_nowait((self._ack_channel(sender), seq))

    async def _ack_loop(self) -> None:
        from redis.exceptions import RedisError

        while True:
            batch = [await self._acks.get()]
            while not self._acks.empty():
                batch.append(self._acks.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, seq in batch:
                        pipe.publish(channel, seq)
                    await pipe.execute()
            except (RedisError, OSError, TimeoutError) as exc:
                # The keys are dropped here already; the writers stop waiting after a lease.
                log.warning("cache.sync.ack_failed", extra={"error": str(exc)})


async def _close_quietly(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except Exception:  # the connection is already gone
        log.debug("cache.sync.close_failed", exc_info=True)
