"""Realtime hub (lead's first cut; the realtime helper owns and replaces this file)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from server.config import Settings


class MemoryHub:
    """In-process fan-out of messages to per-user queues."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._queues.clear()

    async def publish(self, user_id: int, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(user_id, ())):
            queue.put_nowait(message)


_hub: MemoryHub | None = None


def make_hub(settings: Settings) -> MemoryHub:
    return MemoryHub()


def set_hub(hub: MemoryHub) -> None:
    global _hub
    _hub = hub


def get_hub() -> MemoryHub:
    global _hub
    if _hub is None:
        _hub = MemoryHub()
    return _hub
