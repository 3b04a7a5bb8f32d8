"""Hooks: how a feature hears of one above it without importing it.

The lower feature declares a `Hook` (a name, and the shape of the function it will
call) and calls whatever is registered for it; the wiring (server.background) registers
what the features above want done (`hooks.on(hook, fn)`). So push records outcomes
without knowing that orders watch for failed pushes, and the quiet-hours digest goes out
without knowing that orders restart their reminders after it. Nothing registered: the
call is a no-op, as for a signal without a listener (server.core.signals).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

# Usually a function's shape; a hook may also collect objects (notification channels).
F = TypeVar("F")


class Hook(Generic[F]):
    """A point where a feature calls what was registered for it; `F` is the function's shape."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Hook({self.name!r})"


class Hooks:
    """What one process registered for each hook, in the order it was registered."""

    def __init__(self) -> None:
        self._registered: dict[Hook[Any], list[Any]] = {}

    def on(self, hook: Hook[F], fn: F) -> None:
        self._registered.setdefault(hook, []).append(fn)

    def each(self, hook: Hook[F]) -> list[F]:
        return cast(list[F], list(self._registered.get(hook, ())))
