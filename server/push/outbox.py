"""The transactional outbox: delivery rows written with the notification, and their outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import (
    Integer,
    String,
    Text,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import UTCDateTime, utcnow
from server.notifications.models import Notification
from server.push.models import DELIVERY_STATES, PushDelivery, PushSubscription
from server.push.payload import PushMessage, build_message
from server.unit_of_work import UnitOfWork

# Built once: it runs with every notification, and building it cost more than running it.
_ACTIVE_SUBSCRIPTIONS = select(PushSubscription.id).where(
    PushSubscription.user_id == bindparam("user_id"), PushSubscription.muted.is_(False)
)


async def enqueue_push(uow: UnitOfWork, notification: Notification, *, app_badge: int) -> int:
    """Queue one delivery per active subscription of the recipient, in the unit's transaction.

    After commit the unit signals "deliveries committed" with their ids; a delivery
    worker in this process takes them at once, workers elsewhere on their next poll.
    """
    session = uow.session
    subscription_ids = list(
        await session.scalars(_ACTIVE_SUBSCRIPTIONS, {"user_id": notification.user_id})
    )
    if not subscription_ids:
        return 0
    message = build_message(notification, app_badge=app_badge, public_url=uow.settings.public_url)
    now = utcnow()
    expires = now + timedelta(seconds=message.ttl)
    rows = [
        PushDelivery(
            notification_id=notification.id,
            subscription_id=subscription_id,
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
        for subscription_id in subscription_ids
    ]
    session.add_all(rows)
    await session.flush()
    delivery_ids = [row.id for row in rows]
    signal = uow.signals.deliveries

    async def committed() -> None:
        signal.send(delivery_ids)

    uow.after_commit(committed)
    return len(rows)


async def enqueue_pushes(uow: UnitOfWork, messages: Sequence[tuple[int, int, PushMessage]]) -> int:
    """`enqueue_push` for many notifications at once: (notification id, user id, message).

    One INSERT … SELECT: the rendered messages travel once each, as a VALUES list
    joined to the recipients' active subscriptions (muted ones filtered in SQL), so a
    user with three browsers costs one payload sent, not three. Signals like
    `enqueue_push`, once for all the rows.
    """
    if not messages:
        return 0
    now = utcnow()
    rendered = values(
        column("notification_id", Integer),
        column("user_id", Integer),
        column("payload", Text),
        column("ttl", Integer),
        column("urgency", String),
        column("topic", String),
        column("expires_at", UTCDateTime()),
        name="messages",
    ).data(
        [
            (nid, uid, m.payload, m.ttl, m.urgency, m.topic, now + timedelta(seconds=m.ttl))
            for nid, uid, m in messages
        ]
    )
    source = rendered.cte()
    rows = (
        select(
            source.c.notification_id,
            PushSubscription.id,
            literal("queued"),
            source.c.payload,
            source.c.ttl,
            source.c.urgency,
            source.c.topic,
            literal(0),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
            source.c.expires_at,
        )
        .join_from(source, PushSubscription, PushSubscription.user_id == source.c.user_id)
        .where(PushSubscription.muted.is_(False))
    )
    columns = ["notification_id", "subscription_id", "status", "payload", "ttl", "urgency"]
    columns += ["topic", "attempts", "created_at", "due_at", "expires_at"]
    statement = insert(PushDelivery).from_select(columns, rows).returning(PushDelivery.id)
    delivery_ids = list(await uow.session.scalars(statement))
    if not delivery_ids:
        return 0
    signal = uow.signals.deliveries

    async def committed() -> None:
        signal.send(delivery_ids)

    uow.after_commit(committed)
    return len(delivery_ids)


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
