"""Which hub this process runs: Redis pub/sub when REDIS_URL is set, else in memory."""

from __future__ import annotations

from server.core.config import Settings
from server.realtime.hub import Hub, MemoryHub
from server.realtime.redis_hub import RedisHub


def make_hub(settings: Settings) -> Hub:
    interval = settings.ws_ping_interval or None
    if settings.redis_url:
        return RedisHub(settings.redis_url, settings.redis_channel, ping_interval=interval)
    return MemoryHub(ping_interval=interval)
