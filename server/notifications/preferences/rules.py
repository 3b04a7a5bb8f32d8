"""Pure rules: is it quiet now for this user, and what happens to a notification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from server.notifications.types import KINDS

# The push test must reach the device now whatever the settings: it is the check.
ALWAYS_PUSH_EVENTS = frozenset({"system.push_test"})

PushAction = Literal["now", "hold", "skip"]


@dataclass(frozen=True)
class Channels:
    push: bool = True
    inbox: bool = True
    email: bool = False  # the fallback email (server.mail): see default_channels


def default_channels(type: str) -> Channels:
    """What a type does until the user says otherwise: push and inbox on, and email as
    its `Kind` says (on for orders only, the one kind a vendor must not miss)."""
    kind = KINDS.get(type)
    return Channels(email=kind.email if kind else False)


@dataclass(frozen=True)
class QuietHours:
    enabled: bool = False
    start: int = 22 * 60  # minutes after local midnight
    end: int = 7 * 60
    time_zone: str = "UTC"
    orders_ring: bool = True

    def active(self, now: datetime) -> bool:
        """Whether `now` (aware) falls inside the quiet hours, in local wall-clock time.

        Comparing wall-clock times (not fixed UTC offsets) is what keeps "22:00-07:00"
        meaning the same on the nights clocks change; a window across midnight is
        one where start > end.
        """
        if not self.enabled or self.start == self.end:
            return False
        local = now.astimezone(ZoneInfo(self.time_zone)).time()
        start, end = _clock(self.start), _clock(self.end)
        if start < end:
            return start <= local < end
        return local >= start or local < end


@dataclass(frozen=True)
class OrderAlerts:
    """How a pending order rings again (server.orders.alerts): every `repeat_every_seconds`
    (0: never), at most `max_repeats` times."""

    repeat_every_seconds: int = 120
    max_repeats: int = 3

    @property
    def repeats(self) -> int:
        """The reminders a new order gets: none when repeating is off."""
        return self.max_repeats if self.repeat_every_seconds else 0


@dataclass(frozen=True)
class Preferences:
    types: dict[str, Channels]
    quiet: QuietHours
    alerts: OrderAlerts = OrderAlerts()

    def channels(self, type: str) -> Channels:
        return self.types.get(type) or default_channels(type)


@dataclass(frozen=True)
class Decision:
    inbox: bool
    push: PushAction

    @property
    def stored(self) -> bool:
        """Whether a notification row is written at all."""
        return self.inbox or self.push != "skip"


def decide(prefs: Preferences, *, type: str, event: str, now: datetime) -> Decision:
    """Inbox row or not (orders always), and push now, hold for the digest, or skip."""
    if event in ALWAYS_PUSH_EVENTS:
        return Decision(inbox=True, push="now")
    channels = prefs.channels(type)
    inbox = channels.inbox or type == "order"
    if not channels.push:
        return Decision(inbox=inbox, push="skip")
    rings_anyway = event == "order.created" and prefs.quiet.orders_ring
    if prefs.quiet.active(now) and not rings_anyway:
        return Decision(inbox=inbox, push="hold")
    return Decision(inbox=inbox, push="now")


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)
