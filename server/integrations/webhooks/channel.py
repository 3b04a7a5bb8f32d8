"""Where webhook events come from: the notification channel, and the hooks of push and
notifications.

Registered by the wiring (server.background): `CHANNEL` for `notifications.channels`
(each notification written: `notification.created`), `pushes_delivered` and
`pushes_settled` for push's outcome hooks (`notification.delivered`, `.failed`,
`.expired`), `notification_events` for receipts and reads (`.shown`, `.clicked`,
`.read`) and `devices_changed` for subscriptions (`device.added`, `device.removed`).
Each writes outbox rows in the transaction it is handed; users who belong to no
integration with a webhook cost one query and write nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.core.bulk import among_param, is_postgresql
from server.core.unit_of_work import UnitOfWork
from server.integrations.webhooks.outbox import emit
from server.notifications.channels import Written
from server.notifications.counts import Counts
from server.notifications.models import Notification
from server.notifications.preferences.rules import Decision
from server.push.models import PushDelivery


class WebhookChannel:
    name = "webhooks"

    def switched_on(self, decision: Decision) -> bool:
        return True  # every notification written is news to the marketplace

    async def deliver(
        self, uow: UnitOfWork, notification: Notification, decision: Decision, counts: Counts
    ) -> None:
        event = (notification.user_id, _created(notification, decision))
        await emit(uow.session, "notification.created", [event])

    async def deliver_many(
        self,
        uow: UnitOfWork,
        notifications: Sequence[Written],
        decisions: Mapping[int, Decision],
        counts: Mapping[int, Counts],
    ) -> None:
        events = [(n.user_id, _created(n, decisions[n.user_id])) for n in notifications]
        await emit(uow.session, "notification.created", events)


def _created(notification: Notification | Written, decision: Decision) -> dict[str, object]:
    """`notification.created`'s data: what the vendor was told, and whether it is in the inbox."""
    return {
        "notification_id": notification.id,
        "notification_type": notification.type,
        "event": notification.event,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "inbox": decision.inbox,
    }


CHANNEL = WebhookChannel()


@functools.cache
def _outcomes(postgresql: bool) -> Any:
    """Built once per database: it runs with every flush of push outcomes, and building it
    cost more than running it. Most pushes go to vendorbell's own accounts: nothing to
    tell, nothing read."""
    t = PushDelivery
    return (
        select(
            t.id, t.status, t.notification_id, t.subscription_id, t.last_status, t.error,
            Notification.user_id,
        )
        .join(Notification, Notification.id == t.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(among_param(t.id, "ids", postgresql), User.integration_id.is_not(None))
    )  # fmt: skip


async def _push_outcomes(session: AsyncSession, delivery_ids: Collection[int]) -> None:
    if not delivery_ids:
        return
    found = await session.execute(_outcomes(is_postgresql(session)), {"ids": list(delivery_ids)})
    by_type: dict[str, list[tuple[int, dict[str, object]]]] = {}
    for id, status, notification_id, device_id, last_status, error, user_id in found:
        if status not in ("delivered", "failed", "expired"):
            continue
        data: dict[str, object] = {
            "notification_id": notification_id,
            "delivery_id": id,
            "device_id": device_id,
        }
        if status != "delivered":
            data.update(push_status=last_status, reason=error)
        by_type.setdefault(f"notification.{status}", []).append((user_id, data))
    for type, events in by_type.items():
        await emit(session, type, events)


async def notification_events(
    session: AsyncSession, what: str, notifications: Sequence[tuple[int, int]]
) -> None:
    """`notification.shown`, `.clicked` (service-worker receipts) and `.read`: each
    (user id, notification id)."""
    events = [(user_id, {"notification_id": id}) for user_id, id in notifications]
    await emit(session, f"notification.{what}", events)


async def devices_changed(
    session: AsyncSession, what: str, devices: Sequence[tuple[int, int]]
) -> None:
    """`device.added` / `device.removed` (a subscription saved or deleted by the vendor)."""
    await emit(session, f"device.{what}", [(user_id, {"device_id": id}) for user_id, id in devices])


async def pushes_delivered(session: AsyncSession, delivery_ids: Collection[int]) -> None:
    """`notification.delivered` per device the push service accepted the push for."""
    await _push_outcomes(session, delivery_ids)


async def pushes_settled(session: AsyncSession, delivery_ids: Collection[int]) -> None:
    """`notification.failed` / `notification.expired` per push that never arrived."""
    await _push_outcomes(session, delivery_ids)
