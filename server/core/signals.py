"""In-process signals: a committed change tells whoever listens in this process.

A feature declares each signal it sends once, as a `SignalSpec` named for what it
carries (the push outbox's `DELIVERIES` with the ids of the delivery rows it committed,
a new broadcast's `BROADCASTS`, a queued email's `EMAILS`, a webhook event's
`WEBHOOKS`); `signals[SPEC]` is this process's `Signal` of that name. The background
loops of this process (if its role runs them) listen and decide what to do. Nothing
here reaches into a loop: without a listener a signal is a no-op. With REDIS_URL,
server.cluster.signal_relay forwards every signal, whatever its name, to the other
processes too: a value is JSON, and each spec reads it back (`read`) on arrival; without
a relay, loops elsewhere find the rows by polling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")

# A value as it travels between processes (JSON); a spec's `read` turns it back into T.
Relayed = Callable[[str, object], None]


@dataclass(frozen=True)
class SignalSpec(Generic[T]):
    """One signal a feature sends: `name` is its name between processes, `read` checks
    a relayed JSON value and returns it as T (raising ValueError when it is not one)."""

    name: str
    read: Callable[[object], T]


def id_list(value: object) -> list[int]:
    """A list of row ids (the rows a transaction committed)."""
    if isinstance(value, list) and all(type(i) is int for i in value):
        return cast("list[int]", value)
    raise ValueError(f"not a list of ids: {value!r}")


def one_id(value: object) -> int:
    """One row id."""
    if type(value) is int:
        return value
    raise ValueError(f"not an id: {value!r}")


class Signal(Generic[T]):
    """Sent after a commit to this process's listeners (and forwarded, if a relay is set).
    Listeners must not block."""

    def __init__(self, spec: SignalSpec[T], signals: Signals) -> None:
        self.spec = spec
        self._signals = signals
        self._listeners: list[Callable[[T], None]] = []

    def connect(self, listener: Callable[[T], None]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[[T], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def send(self, value: T) -> None:
        self.send_local(value)
        forward = self._signals.forwarding
        if forward is not None:
            forward(self.spec.name, value)

    def send_local(self, value: T) -> None:
        """Tell this process's listeners only (a value relayed from another process)."""
        for listener in list(self._listeners):
            listener(value)


class Signals:
    """This process's signals, by name: `signals[SPEC]` (made when first asked for, by a
    sender or a listener). One set per app (tests run many apps in one process)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Signal[Any]] = {}
        # Set by the relay: (name, value) of every signal sent here goes to the others too.
        self.forwarding: Relayed | None = None

    def __getitem__(self, spec: SignalSpec[T]) -> Signal[T]:
        signal = self._by_name.get(spec.name)
        if signal is None:
            signal = self._by_name[spec.name] = Signal(spec, self)
        elif signal.spec != spec:
            # Two features declaring one name would hear each other's values.
            raise ValueError(f"two signals are named {spec.name!r}")
        return cast("Signal[T]", signal)

    def forward(self, to: Relayed | None) -> None:
        """Also hand every signal sent here, by name, to `to` (the relay to other processes)."""
        self.forwarding = to

    def send_relayed(self, name: str, value: object) -> None:
        """A signal another process sent: to this process's listeners, read by its spec.
        A name nobody here has asked for has no listener, so it is dropped unread; a value
        its spec does not accept raises ValueError."""
        signal = self._by_name.get(name)
        if signal is not None:
            signal.send_local(signal.spec.read(value))
