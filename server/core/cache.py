"""A small read-through cache per process that never serves a value older than a write.

Used for the lookups every request of an open dashboard makes: the bearer token
(→ user), the inbox counts (the badge) and the notification preferences. Each feature
declares its cache as a `CacheSpec` (name, value type, TTL); the runtime hands the
list to `Caches`, so this floor knows no feature's types. Measured with
bench/bench_inbox.py, a count request spent most of its time opening a session and
running two queries; served from memory it costs about as much as FastAPI's routing.

Race-free without locks: `invalidate` gives the key a new generation, and `put` only
stores a value read under the generation it saw before reading (`generation()`),
so a read that raced with a write can never overwrite the invalidation.

With one process (no REDIS_URL) a committed write invalidates here and that is all.
With several, every process keeps its own caches and server.cluster.cache_sync carries
each invalidation to the others over Redis; `CacheState` says whether the caches may serve
(the other processes are known to reach us) and store (we are subscribed). While
either is not so, reads go to the database: never to a value another process changed.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

V = TypeVar("V")


class CacheState:
    """Whether this process's caches may store and serve values; shared by all of them.

    Alone (`shared=False`) both always hold. Shared, the caches store only while
    subscribed to the other processes' invalidations, and serve only until
    `fresh_until` (monotonic seconds): server.cluster.cache_sync moves it on each time the
    subscription proves it has delivered everything published until then.
    """

    def __init__(self, *, shared: bool) -> None:
        self.storing = not shared
        self.fresh_until = -math.inf if shared else math.inf

    def serving(self, now: float) -> bool:
        return now < self.fresh_until


class GenerationalCache(Generic[V]):
    def __init__(
        self,
        name: str,
        state: CacheState | None = None,
        *,
        max_entries: int = 50_000,
        ttl_seconds: float = 60.0,
    ) -> None:
        self.name = name
        self._state = state or CacheState(shared=False)
        self._values: OrderedDict[Hashable, tuple[float, int, V]] = OrderedDict()
        self._generations: dict[Hashable, int] = {}
        self._clock = 0  # every invalidation takes the next number
        self._floor = 0  # every key's generation since the last `clear`
        self._max = max_entries
        self._ttl = ttl_seconds

    @property
    def ttl_seconds(self) -> float:
        return self._ttl

    def generation(self, key: Hashable) -> int:
        return max(self._generations.get(key, 0), self._floor)

    def get(self, key: Hashable) -> V | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        now = time.monotonic()
        if not self._state.serving(now):
            return None
        stored_at, generation, value = entry
        if generation != self.generation(key) or now - stored_at > self._ttl:
            self._values.pop(key, None)
            return None
        self._values.move_to_end(key)
        return value

    def put(
        self, key: Hashable, value: V, generation: int, *, read_at: float | None = None
    ) -> None:
        """Store `value`, read from the database since `generation(key)` returned
        `generation` (and since `read_at`, monotonic, from which its TTL runs)."""
        if generation != self.generation(key) or not self._state.storing:
            return  # written meanwhile (the value may predate the write), or not subscribed
        self._values[key] = (time.monotonic() if read_at is None else read_at, generation, value)
        self._values.move_to_end(key)
        while len(self._values) > self._max:
            # Generations stay: dropping one could let a racing read store a stale value.
            self._values.popitem(last=False)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or `load()`'s, stored unless a write raced with the load."""
        hit = self.get(key)
        if hit is not None:
            return hit
        generation, read_at = self.generation(key), time.monotonic()
        value = await load()
        self.put(key, value, generation, read_at=read_at)
        return value

    def invalidate(self, key: Hashable) -> None:
        self._clock += 1
        self._generations[key] = self._clock
        self._values.pop(key, None)

    def clear(self) -> None:
        """Forget every value, and refuse those being read now (as `invalidate` would)."""
        self._clock += 1
        self._floor = self._clock
        self._generations.clear()
        self._values.clear()


@dataclass(frozen=True)
class CacheSpec(Generic[V]):
    """One cache a feature keeps: `caches[spec]` is its `GenerationalCache[V]`."""

    name: str
    ttl_seconds: float


class Peers(Protocol):
    """The other processes' caches (server.cluster.cache_sync): told of each commit."""

    async def invalidate(self, entries: Sequence[tuple[str, Hashable]]) -> None: ...


class Caches:
    """The app's caches, one per spec; one set per app (tests run many apps in one process).

    `shared=True` when other processes serve the same database: the caches then start
    closed and server.cluster.cache_sync opens them (and sets `peers`) once subscribed.
    """

    def __init__(self, specs: Iterable[CacheSpec[Any]], *, shared: bool = False) -> None:
        self.state = CacheState(shared=shared)
        self.peers: Peers | None = None
        self.by_name: dict[str, GenerationalCache[Any]] = {
            spec.name: GenerationalCache(spec.name, self.state, ttl_seconds=spec.ttl_seconds)
            for spec in specs
        }

    def __getitem__(self, spec: CacheSpec[V]) -> GenerationalCache[V]:
        return cast("GenerationalCache[V]", self.by_name[spec.name])

    async def invalidate_committed(
        self, entries: Sequence[tuple[GenerationalCache[Any], Hashable]]
    ) -> None:
        """Drop what a committed transaction changed, here and (when shared) everywhere."""
        for cache, key in entries:
            cache.invalidate(key)
        if self.peers is not None:
            await self.peers.invalidate([(cache.name, key) for cache, key in entries])

    def close(self) -> None:
        """Not subscribed (any more): read from the database, forget and store nothing."""
        self.state.storing = False
        self.state.fresh_until = -math.inf
        for cache in self.by_name.values():
            cache.clear()

    def open(self) -> None:
        """Subscribed again: store from now on (reads that began before are refused);
        serve once `renew` says the subscription is current."""
        for cache in self.by_name.values():
            cache.clear()
        self.state.storing = True

    def renew(self, fresh_until: float) -> None:
        if self.state.storing:
            self.state.fresh_until = max(self.state.fresh_until, fresh_until)
