"""Wakes the in-process delivery worker as soon as new deliveries are committed.

One event per running event loop: an asyncio.Event belongs to the loop it was
first awaited in, and tests (or a CLI) may run several loops in one process.
"""

from __future__ import annotations

import asyncio
import weakref

_events: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)


def event() -> asyncio.Event:
    """The event the worker of the running loop waits on."""
    loop = asyncio.get_running_loop()
    found = _events.get(loop)
    if found is None:
        found = _events[loop] = asyncio.Event()
    return found


async def notify() -> None:
    event().set()
