"""Channels: what a decided notification goes out through besides the inbox.

A channel is a name, which decisions switch it on, and what it does for one
notification inside the unit of work (write its outbox rows; a worker sends them
after commit). `notify()` (server.notifications.service) loops over the channels
registered for `CHANNELS`; the wiring (server.background) registers them, so a new
channel is one package plus one registration, and a channel living in a feature above
notifications (the marketplace webhooks: server.integrations.webhooks) is registered
without notifications importing it. Push sits below and is declared here (`PUSH`).

The order email fallback is not a channel: it is sent by the order reminders when an
order stays unanswered (server.orders.alerts.emails), not when a notification is written.
"""

from __future__ import annotations

from typing import Protocol

from server.core.hooks import Hook
from server.core.unit_of_work import UnitOfWork
from server.notifications.counts import Counts
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences
from server.notifications.preferences.rules import Decision
from server.push.outbox import enqueue_push


class Channel(Protocol):
    """One way a notification leaves vendorbell."""

    @property
    def name(self) -> str: ...

    def switched_on(self, decision: Decision) -> bool:
        """Whether this channel has anything to do for a notification so decided."""
        ...

    async def deliver(
        self, uow: UnitOfWork, notification: Notification, decision: Decision, counts: Counts
    ) -> None:
        """Queue the notification for this channel in the unit's transaction (never commit)."""
        ...


# The channels of this process, in the order they run for each notification.
CHANNELS: Hook[Channel] = Hook("notifications.channels")


class PushChannel:
    """Web Push: one outbox row per device now, or held for the quiet-hours digest."""

    name = "push"

    def switched_on(self, decision: Decision) -> bool:
        return decision.push != "skip"

    async def deliver(
        self, uow: UnitOfWork, notification: Notification, decision: Decision, counts: Counts
    ) -> None:
        if decision.push == "now":
            await enqueue_push(uow, notification, app_badge=counts.unseen)
        elif decision.push == "hold":
            await preferences.hold(uow.session, notification)


PUSH = PushChannel()
