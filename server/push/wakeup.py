"""Wakes the in-process delivery worker as soon as new deliveries are committed."""

from __future__ import annotations

import asyncio

_event: asyncio.Event | None = None


def event() -> asyncio.Event:
    """The event the worker waits on (created lazily, inside the running loop)."""
    global _event
    if _event is None:
        _event = asyncio.Event()
    return _event


async def notify() -> None:
    event().set()
