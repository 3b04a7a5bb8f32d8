"""The transactional outbox: delivery rows written with the notification, and their outcomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import after_commit, session_settings, utcnow
from server.notifications.models import Notification
from server.push import wakeup
from server.push.models import DELIVERY_STATES, PushDelivery, PushSubscription
from server.push.payload import build_message
from server.push.sender import Job

# Rows one transaction may lease up front to the in-process worker; a bigger fan-out
# (a broadcast) is claimed in batches as usual.
HAND_OFF_PER_TRANSACTION = 64
_HANDED = "push_handed_off"
# Built once: it runs with every notification, and building it cost more than running it.
_ACTIVE_SUBSCRIPTIONS = select(
    PushSubscription.id,
    PushSubscription.endpoint,
    PushSubscription.p256dh,
    PushSubscription.auth,
    PushSubscription.vapid_key_id,
).where(PushSubscription.user_id == bindparam("user_id"), PushSubscription.muted.is_(False))


async def enqueue_push(
    session: AsyncSession, notification: Notification, *, app_badge: int, public_url: str
) -> int:
    """Queue one delivery per active subscription of the recipient, in the caller's transaction.

    When a delivery worker runs in this process, the rows are written already leased
    to it and handed to it after commit, so the push goes out without a claim;
    otherwise they are queued and the worker (if any) is woken after commit.
    """
    subscriptions = (
        await session.execute(_ACTIVE_SUBSCRIPTIONS, {"user_id": notification.user_id})
    ).all()
    if not subscriptions:
        return 0
    message = build_message(notification, app_badge=app_badge, public_url=public_url)
    now = utcnow()
    expires = now + timedelta(seconds=message.ttl)
    handed = session.info.get(_HANDED, 0) + len(subscriptions)
    worker = None
    if handed <= HAND_OFF_PER_TRANSACTION:
        worker = wakeup.local_worker(session_settings(session).database_url, len(subscriptions))
    leased_by, due = worker.lease() if worker is not None else (None, now)
    rows = [
        PushDelivery(
            notification_id=notification.id,
            subscription_id=sub.id,
            status="queued",
            payload=message.payload,
            ttl=message.ttl,
            urgency=message.urgency,
            topic=message.topic,
            attempts=0 if worker is None else 1,  # a claim counts the attempt as it leases
            created_at=now,
            due_at=due,
            lease_until=None if worker is None else due,
            leased_by=leased_by,
            expires_at=expires,
        )
        for sub in subscriptions
    ]
    session.add_all(rows)
    if worker is None:
        after_commit(session, wakeup.notify)
        return len(rows)
    session.info[_HANDED] = handed
    leased = worker

    async def hand_off() -> None:
        await leased.hand_off(
            [
                Job(
                    row.id,
                    row.payload,
                    row.urgency,
                    row.topic,
                    row.created_at,
                    row.expires_at,
                    row.attempts,
                    sub.id,
                    sub.endpoint,
                    sub.p256dh,
                    sub.auth,
                    sub.vapid_key_id,
                )
                for row, sub in zip(rows, subscriptions, strict=True)
            ]
        )

    after_commit(session, hand_off)
    return len(rows)


async def outcomes_for(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, int]]:
    """Per notification: how many of its deliveries are queued, delivered, failed, expired."""
    result: dict[int, dict[str, int]] = {i: dict.fromkeys(DELIVERY_STATES, 0) for i in ids}
    if not ids:
        return result
    rows = await session.execute(
        select(PushDelivery.notification_id, PushDelivery.status, func.count())
        .where(PushDelivery.notification_id.in_(ids))
        .group_by(PushDelivery.notification_id, PushDelivery.status)
    )
    for notification_id, status, count in rows:
        result[notification_id][status] = count
    return result
