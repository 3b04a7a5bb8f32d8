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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.core.hooks import Hook
from server.core.links import link_bases
from server.core.unit_of_work import UnitOfWork
from server.notifications.counts import Counts
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences
from server.notifications.preferences.rules import Decision
from server.push.outbox import enqueue_push, enqueue_pushes
from server.push.payload import PushContent, build_message


@dataclass(frozen=True, slots=True)
class Written(PushContent):
    """A notification row as inserted by a broadcast (server.notifications.fanout):
    what its push, its webhook event and its live event are built from."""

    user_id: int
    created_at: datetime
    seen_at: datetime | None
    read_at: datetime | None


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

    async def deliver_many(
        self,
        uow: UnitOfWork,
        notifications: Sequence[Written],
        decisions: Mapping[int, Decision],
        counts: Mapping[int, Counts],
    ) -> None:
        """`deliver` for a broadcast's batch (server.notifications.fanout): one
        notification per user, decisions and counts by user id, a few statements in all."""
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

    async def deliver_many(
        self,
        uow: UnitOfWork,
        notifications: Sequence[Written],
        decisions: Mapping[int, Decision],
        counts: Mapping[int, Counts],
    ) -> None:
        now = [n for n in notifications if decisions[n.user_id].push == "now"]
        bases = await link_bases(uow, [n.user_id for n in now])
        messages = [
            (
                n.id,
                n.user_id,
                build_message(n, app_badge=counts[n.user_id].unseen, link_base=bases[n.user_id]),
            )
            for n in now
        ]
        await enqueue_pushes(uow, messages)
        held = [(n.user_id, n.id) for n in notifications if decisions[n.user_id].push == "hold"]
        if held:
            await preferences.hold_many(uow.session, notifications[0].type, held)


PUSH = PushChannel()
