"""In-process signals: a committed change tells whoever listens in this process.

The outbox sends `deliveries` with the ids of the delivery rows it committed, a new
broadcast sends `broadcasts`, a queued email `emails` (server.mail), a webhook event
queued again by an admin `webhooks` (server.integrations.webhooks); the background
loops of this process (if its role runs them) listen and decide what to do. Nothing
here reaches into a loop: without a listener a signal is a no-op. With REDIS_URL,
server.cluster.signal_relay forwards every signal to the other processes too; without
it, loops elsewhere find the rows by polling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class Signal(Generic[T]):
    """Sent after a commit to this process's listeners (and forwarded, if a relay is set).
    Listeners must not block."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []
        self._forward: Callable[[T], None] | None = None

    def connect(self, listener: Callable[[T], None]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[[T], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def forward(self, to: Callable[[T], None] | None) -> None:
        """Also hand every value sent here to `to` (the relay to other processes)."""
        self._forward = to

    def send(self, value: T) -> None:
        self.send_local(value)
        if self._forward is not None:
            self._forward(value)

    def send_local(self, value: T) -> None:
        """Tell this process's listeners only (a value relayed from another process)."""
        for listener in list(self._listeners):
            listener(value)


@dataclass(frozen=True)
class Signals:
    deliveries: Signal[list[int]] = field(default_factory=Signal)  # delivery ids committed
    broadcasts: Signal[int] = field(default_factory=Signal)  # a broadcast id committed
    emails: Signal[list[int]] = field(default_factory=Signal)  # email outbox ids committed
    webhooks: Signal[list[int]] = field(default_factory=Signal)  # webhook deliveries re-queued
