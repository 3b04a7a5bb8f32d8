"""Password hashing, token digests, and the process-local sliding window the limits use."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool

_hasher = PasswordHasher()
# Verified when the email is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow (~50 ms): keep it off the event loop.
    return await run_in_threadpool(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await run_in_threadpool(_verify)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(secret_key: str, token: str) -> str:
    """HMAC-SHA256 of a token: the database never holds a usable token."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def try_again_in(seconds: int) -> str:
    """'Try again in 4 minutes.': a lockout says how long it lasts, rounded up."""
    if seconds < 60:
        amount, unit = max(1, seconds), "second"
    elif seconds < 2 * 3600:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = math.ceil(seconds / 3600), "hour"
    return f"Try again in {amount} {unit}{'' if amount == 1 else 's'}."


class SlidingWindowLimiter:
    """Events per key (an account, an address) in a sliding window, in process memory.

    Keys whose events have all left the window are dropped as the table grows, so a
    stream of distinct keys (random emails, many addresses) cannot grow it for ever.
    """

    def __init__(self, max_events: int, window_seconds: float) -> None:
        self.max_events = max_events
        self.window = window_seconds
        self._events: dict[str, deque[float]] = {}
        self._sweep_at = _SWEEP_MIN

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, keys: list[str]) -> int | None:
        """Seconds to wait if any key is at its limit, else None."""
        now = time.monotonic()
        waits = [
            events[-self.max_events] + self.window - now
            for key in keys
            if (events := self._recent(key, now)) is not None and len(events) >= self.max_events
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def hit(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._events.setdefault(key, deque()).append(now)
        if len(self._events) > self._sweep_at:
            self._sweep(now)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in list(self._events):
            self._recent(key, now)
        self._sweep_at = max(_SWEEP_MIN, 2 * len(self._events))


_SWEEP_MIN = 1024
