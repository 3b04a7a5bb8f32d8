"""The two kinds of Redis client every Redis user here needs, each with its waits bounded.

Without a `socket_timeout`, a command to a Redis that stopped answering (a blackholed
host, a stalled proxy) waits for ever; every client is made here so none is without.
A subscription's client must also never reconnect by itself: redis-py would then
resubscribe silently, and what was published in the gap would be lost unnoticed, so
the caller sees the failure and decides (close the caches, tell the sockets, resync).
"""

from __future__ import annotations

from typing import Any


def command_client(url: str, *, timeout: float) -> Any:
    """A client for commands and publishing: connect and each reply within `timeout`."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def subscription_client(url: str, *, name: str, timeout: float) -> Any:
    """A client for one pub/sub subscription: bounded like `command_client`, named (so
    CLIENT LIST shows whose it is) and never reconnecting by itself."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        client_name=name,
        retry=Retry(NoBackoff(), 0, supported_errors=()),
    )
