"""The transactional outbox: delivery rows written with the notification, and their outcomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import after_commit, utcnow
from server.notifications.models import Notification
from server.push import wakeup
from server.push.models import DELIVERY_STATES, PushDelivery, PushSubscription
from server.push.payload import build_message


async def enqueue_push(
    session: AsyncSession, notification: Notification, *, app_badge: int, public_url: str
) -> int:
    """Queue one delivery per active subscription of the recipient, in the caller's transaction."""
    subscriptions = (
        await session.scalars(
            select(PushSubscription.id).where(
                PushSubscription.user_id == notification.user_id,
                PushSubscription.muted.is_(False),
            )
        )
    ).all()
    if not subscriptions:
        return 0
    message = build_message(notification, app_badge=app_badge, public_url=public_url)
    now = utcnow()
    expires = now + timedelta(seconds=message.ttl)
    session.add_all(
        PushDelivery(
            notification_id=notification.id,
            subscription_id=sub_id,
            status="queued",
            payload=message.payload,
            ttl=message.ttl,
            urgency=message.urgency,
            topic=message.topic,
            attempts=0,
            created_at=now,
            due_at=now,
            expires_at=expires,
        )
        for sub_id in subscriptions
    )
    after_commit(session, wakeup.notify)
    return len(subscriptions)


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
