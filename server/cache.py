"""A small in-process read-through cache that never keeps a value older than a write.

Used for the two lookups every request of an open dashboard makes: the bearer token
(→ user) and the inbox counts (the badge). Measured with bench/bench_inbox.py, a
count request spent most of its time opening a session and running two queries;
served from memory it costs about as much as FastAPI's routing.

Race-free without locks: `invalidate` bumps the key's generation, and `put` only
stores a value read under the generation it saw before reading (`generation()`),
so a read that raced with a write can never overwrite the invalidation.

The cache is per process. It is only switched on while the app runs as one process
(no REDIS_URL): with several processes, a write in one could not invalidate the others.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from server.notifications.counts import Counts
from server.preferences.rules import Preferences

V = TypeVar("V")


class GenerationalCache(Generic[V]):
    def __init__(self, *, max_entries: int = 50_000, ttl_seconds: float = 60.0) -> None:
        self._values: OrderedDict[Hashable, tuple[float, int, V]] = OrderedDict()
        self._generations: dict[Hashable, int] = {}
        self._max = max_entries
        self._ttl = ttl_seconds

    def generation(self, key: Hashable) -> int:
        return self._generations.get(key, 0)

    def get(self, key: Hashable) -> V | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        stored_at, generation, value = entry
        if generation != self.generation(key) or time.monotonic() - stored_at > self._ttl:
            self._values.pop(key, None)
            return None
        self._values.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V, generation: int) -> None:
        if generation != self.generation(key):
            return  # written meanwhile: the value may predate the write
        self._values[key] = (time.monotonic(), generation, value)
        self._values.move_to_end(key)
        while len(self._values) > self._max:
            # Generations stay: dropping one could let a racing read store a stale value.
            self._values.popitem(last=False)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or `load()`'s, stored unless a write raced with the load."""
        hit = self.get(key)
        if hit is not None:
            return hit
        generation = self.generation(key)
        value = await load()
        self.put(key, value, generation)
        return value

    def invalidate(self, key: Hashable) -> None:
        self._generations[key] = self.generation(key) + 1
        self._values.pop(key, None)


class Caches:
    """The app's caches; one set per app (tests run many apps in one process)."""

    def __init__(self) -> None:
        # Token digest → the signed-in user's public fields. Logout invalidates.
        self.tokens: GenerationalCache[tuple[int, str, str, str]] = GenerationalCache(
            ttl_seconds=60.0
        )
        # User id → inbox counts. Every committed read/seen change or new notification
        # invalidates; the TTL only bounds what a write outside those paths could leave.
        self.counts: GenerationalCache[Counts] = GenerationalCache(ttl_seconds=30.0)
        # User id → notification preferences (server.preferences). Saving invalidates.
        self.preferences: GenerationalCache[Preferences] = GenerationalCache(ttl_seconds=60.0)
