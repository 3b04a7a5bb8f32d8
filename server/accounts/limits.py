"""The sign-up and sign-in limits, shared by every process through Redis when there is one.

Each limit is a sliding window of events per key (an account, a client address). With
REDIS_URL the windows are Redis sorted sets (one per key, scored by Redis's own clock,
each update one atomic script), so two API processes allow the budget once, not twice.
Every Redis call has a short timeout; while Redis does not answer, the process-local
windows (server.accounts.security), which record every event too, decide instead, and
the lapse is logged once: a limit never turns a sign-in into a 500.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from typing import Any

from server.accounts.security import SlidingWindowLimiter
from server.cluster.clients import command_client
from server.core.config import Settings

log = logging.getLogger("vendorbell.accounts")

# Each Redis call gets this long; after a failure Redis is left alone for _REST seconds,
# so a Redis that is down costs one timeout now and then, not one per sign-in.
_TIMEOUT = 1.0
_REST = 5.0

# KEYS: the windows; ARGV: window (ms), member prefix. Adds one event to each window.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[1]))
  redis.call('ZADD', key, now, ARGV[2] .. ':' .. i)
  redis.call('PEXPIRE', key, ARGV[1])
end
return 0
"""
# KEYS: the windows; ARGV: window (ms), max events. Milliseconds until every window is
# below its limit again, 0 if all are now.
_WAIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, max = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local counted = redis.call('ZRANGE', key, -max, -max, 'WITHSCORES')
  if counted[2] then
    wait = math.max(wait, tonumber(counted[2]) + window - now)
  end
end
return wait
"""


class RedisWindows:
    """Sliding windows kept in one Redis, under one key prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis: Any = command_client(url, timeout=_TIMEOUT)
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)
        self._wait = self._redis.register_script(_WAIT)

    def _keys(self, name: str, keys: list[str]) -> list[str]:
        return [f"{self._prefix}{name}:{key}" for key in keys]

    async def hit(self, name: str, keys: list[str], window: float) -> None:
        async with asyncio.timeout(_TIMEOUT):
            member = f"{time.time_ns()}:{secrets.token_hex(6)}"  # unique per event
            await self._hit(self._keys(name, keys), [math.ceil(window * 1000), member])

    async def retry_after(
        self, name: str, keys: list[str], max_events: int, window: float
    ) -> int | None:
        async with asyncio.timeout(_TIMEOUT):
            wait = int(
                await self._wait(self._keys(name, keys), [math.ceil(window * 1000), max_events])
            )
        return max(1, math.ceil(wait / 1000)) if wait > 0 else None

    async def clear(self, name: str, key: str) -> None:
        async with asyncio.timeout(_TIMEOUT):
            await self._redis.delete(*self._keys(name, [key]))

    async def close(self) -> None:
        await self._redis.aclose()


class Window:
    """One limit: at most `max_events` per key in `window_seconds`.

    Events always go to the local window too, so that when Redis stops answering the
    process still knows what it saw itself.
    """

    def __init__(self, name: str, max_events: int, window_seconds: float) -> None:
        self.name = name
        self.local = SlidingWindowLimiter(max_events, window_seconds)
        self.shared: Shared | None = None

    async def retry_after(self, keys: list[str]) -> int | None:
        """Seconds to wait if any key is at its limit, else None."""
        local, shared = self.local, self.shared
        if shared is not None and shared.usable():
            try:
                wait = await shared.windows.retry_after(
                    self.name, keys, local.max_events, local.window
                )
            except Exception as exc:
                shared.failed(exc)
            else:
                shared.answered()
                return wait
        return local.retry_after(keys)

    async def hit(self, keys: list[str]) -> None:
        self.local.hit(keys)
        shared = self.shared
        if shared is not None and shared.usable():
            try:
                await shared.windows.hit(self.name, keys, self.local.window)
            except Exception as exc:
                shared.failed(exc)
            else:
                shared.answered()

    async def clear(self, key: str) -> None:
        self.local.clear(key)
        shared = self.shared
        if shared is not None and shared.usable():
            try:
                await shared.windows.clear(self.name, key)
            except Exception as exc:
                shared.failed(exc)
            else:
                shared.answered()


class Shared:
    """The Redis windows of an app, and whether to try them now: after a failure they
    rest for _REST seconds; a lapse is logged once when it starts and once when it ends."""

    def __init__(self, windows: RedisWindows) -> None:
        self.windows = windows
        self._rest_until = 0.0
        self._down = False

    def usable(self) -> bool:
        return time.monotonic() >= self._rest_until

    def failed(self, exc: BaseException) -> None:
        # Any failure (timeout, connection, a script error): fall back, never a 500.
        self._rest_until = time.monotonic() + _REST
        if not self._down:
            self._down = True
            log.warning(
                "accounts.limits.redis_unavailable",
                extra={"error": repr(exc), "retry_every_seconds": _REST},
            )

    def answered(self) -> None:
        if self._down:
            self._down = False
            log.info("accounts.limits.redis_back")


class Limits:
    """The limits one app applies: sign-ups per address, failed sign-ins per account and
    per address, and the accounts registered within the sign-in window (judged on their
    own failures only: what others tried from a shared address does not lock them out)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.register = Window(
            "register", settings.register_max_per_window, settings.register_window_seconds
        )
        self.login = Window("login", settings.login_max_attempts, settings.login_window_seconds)
        self.new_accounts = Window("new", 1, settings.login_window_seconds)
        self._shared: Shared | None = None

    async def start(self) -> None:
        """With REDIS_URL, keep the windows there (under the REDIS_CHANNEL prefix)."""
        url = self._settings.redis_url
        if not url:
            return
        self._shared = Shared(RedisWindows(url, f"{self._settings.redis_channel}:limits:"))
        for window in (self.register, self.login, self.new_accounts):
            window.shared = self._shared

    async def close(self) -> None:
        shared, self._shared = self._shared, None
        for window in (self.register, self.login, self.new_accounts):
            window.shared = None
        if shared is not None:
            await shared.windows.close()

    async def is_new(self, account_key: str) -> bool:
        return await self.new_accounts.retry_after([account_key]) is not None
