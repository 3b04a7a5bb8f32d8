"""In-process signals: a committed change tells whoever listens in this process.

The outbox sends `deliveries` with the ids of the delivery rows it committed, and a new
broadcast sends `broadcasts`; the background loops of this process (if its role runs
them) listen and decide what to do. Nothing here reaches into a loop: without a
listener a signal is a no-op, and loops in other processes find the rows by polling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class Signal(Generic[T]):
    """Sent after a commit, heard in this process only. Listeners must not block."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def connect(self, listener: Callable[[T], None]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[[T], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def send(self, value: T) -> None:
        for listener in list(self._listeners):
            listener(value)


@dataclass(frozen=True)
class Signals:
    deliveries: Signal[list[int]] = field(default_factory=Signal)  # delivery ids committed
    broadcasts: Signal[int] = field(default_factory=Signal)  # a broadcast id committed
