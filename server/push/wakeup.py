"""Wakes the in-process delivery worker as soon as new deliveries are committed, and
lets the outbox hand new deliveries straight to it.

One event per running event loop: an asyncio.Event belongs to the loop it was
first awaited in, and tests (or a CLI) may run several loops in one process.
Likewise the running workers are remembered per loop.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.push.worker import DeliveryWorker

_events: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)
_workers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[DeliveryWorker]] = (
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


def register(worker: DeliveryWorker) -> None:
    """A worker now runs on this loop (until `unregister`)."""
    _workers.setdefault(asyncio.get_running_loop(), []).append(worker)


def unregister(worker: DeliveryWorker) -> None:
    workers = _workers.get(asyncio.get_running_loop(), [])
    if worker in workers:
        workers.remove(worker)


def local_worker(database_url: str, rows: int) -> DeliveryWorker | None:
    """A worker of this loop serving `database_url` that can take `rows` more now."""
    for worker in _workers.get(asyncio.get_running_loop(), ()):
        if worker.settings.database_url == database_url and worker.can_take(rows):
            return worker
    return None
