"""Which hub this process runs: Redis pub/sub when REDIS_URL is set, else in memory."""

from __future__ import annotations

from server.accounts.tokens import Lifetime
from server.core.config import Settings
from server.core.db import Database
from server.realtime.hub import Hub, MemoryHub
from server.realtime.redis_hub import RedisHub
from server.realtime.sessions import TokenCheck


def make_hub(settings: Settings, database: Database, *, sockets: bool = True) -> Hub:
    """`sockets`: whether this process serves WebSockets (False: the worker role, whose
    Redis hub only publishes)."""
    interval = settings.ws_ping_interval or None
    # Fresh for under half an interval: each socket's next ping reads its token again.
    sessions = (
        TokenCheck(database, Lifetime.of(settings), fresh_seconds=interval / 2)
        if interval
        else None
    )
    if settings.redis_url:
        return RedisHub(
            settings.redis_url,
            settings.redis_channel,
            ping_interval=interval,
            sessions=sessions,
            listen=sockets,
        )
    return MemoryHub(ping_interval=interval, sessions=sessions)
