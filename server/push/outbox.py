"""The transactional outbox: delivery rows written with the notification, and their outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.selectable import ScalarSelect

from server.core.bulk import RowSet, is_postgresql
from server.core.db import UTCDateTime, utcnow
from server.core.links import link_base
from server.core.signals import SignalSpec, id_list
from server.core.unit_of_work import UnitOfWork
from server.push.models import DELIVERY_STATES, PushDelivery, PushSubscription
from server.push.payload import PushMessage, PushSource, build_message


class Recipient(PushSource, Protocol):
    """A notification as the outbox reads it (server.notifications.models.Notification,
    or a digest standing in for one): what the push shows, and whose devices get it."""

    @property
    def user_id(self) -> int: ...


# The ids of the delivery rows a transaction queued, sent once it has committed: the
# delivery workers (server.push.worker) claim them at once instead of at their next poll.
DELIVERIES_QUEUED = SignalSpec("deliveries", id_list)

# Built once: it runs with every notification, and building it cost more than running it.
_ACTIVE_SUBSCRIPTIONS = select(PushSubscription.id).where(
    PushSubscription.user_id == bindparam("user_id"), PushSubscription.muted.is_(False)
)


async def enqueue_push(uow: UnitOfWork, notification: Recipient, *, app_badge: int) -> int:
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
    base = await link_base(uow, notification.user_id)
    message = build_message(notification, app_badge=app_badge, link_base=base)
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
    signal = uow.signals[DELIVERIES_QUEUED]

    async def committed() -> None:
        signal.send(delivery_ids)

    uow.after_commit(committed)
    return len(rows)


async def enqueue_pushes(uow: UnitOfWork, messages: Sequence[tuple[int, int, PushMessage]]) -> int:
    """`enqueue_push` for many notifications at once: (notification id, user id, message).

    One INSERT … SELECT per kind of message (a broadcast has one): the rendered
    messages travel once each, as one set of rows (server.core.bulk) joined to the
    recipients' active subscriptions (muted ones filtered in SQL), so a user with three
    browsers costs one payload sent, not three. Signals like `enqueue_push`, once for all the rows.
    """
    kinds: dict[tuple[int, str, str | None], list[tuple[int, int, str]]] = {}
    for notification_id, user_id, m in messages:
        kinds.setdefault((m.ttl, m.urgency, m.topic), []).append(
            (notification_id, user_id, m.payload)
        )
    now = utcnow()
    delivery_ids: list[int] = []
    postgresql = is_postgresql(uow.session)
    for (ttl, urgency, topic), rows in kinds.items():
        params = MESSAGES.parameters(postgresql, rows)
        params.update(ttl=ttl, urgency=urgency, topic=topic, now=now)
        params["expires_at"] = now + timedelta(seconds=ttl)
        statement = _enqueue_statement(postgresql, 0 if postgresql else len(rows))
        delivery_ids += await uow.session.scalars(statement, params)
    if not delivery_ids:
        return 0
    signal = uow.signals[DELIVERIES_QUEUED]

    async def committed() -> None:
        signal.send(delivery_ids)

    uow.after_commit(committed)
    return len(delivery_ids)


# A rendered message per row: its notification, its recipient (joined to their
# subscriptions) and its payload.
MESSAGES = RowSet(
    "messages", (("notification_id", Integer()), ("user_id", Integer()), ("payload", Text()))
)


@lru_cache(maxsize=8)
def _enqueue_statement(postgresql: bool, rows: int) -> ReturningInsert[tuple[int]]:
    """The INSERT … SELECT of `enqueue_pushes` for `rows` messages (server.core.bulk:
    arrays on PostgreSQL, whatever their length; a bound VALUES list on SQLite)."""
    source = MESSAGES.source(postgresql, rows)
    now = bindparam("now", type_=UTCDateTime())
    active = (
        select(
            source.c.notification_id,
            PushSubscription.id,
            literal("queued"),
            source.c.payload,
            bindparam("ttl", type_=Integer()),
            bindparam("urgency", type_=String()),
            bindparam("topic", type_=String()),
            literal(0),
            now,
            now,
            bindparam("expires_at", type_=UTCDateTime()),
        )
        .join_from(source, PushSubscription, PushSubscription.user_id == source.c.user_id)
        .where(PushSubscription.muted.is_(False))
    )
    columns = ["notification_id", "subscription_id", "status", "payload", "ttl", "urgency"]
    columns += ["topic", "attempts", "created_at", "due_at", "expires_at"]
    # The table, not the entity: the ORM would read a dict of parameters as rows to insert.
    deliveries: Table = PushDelivery.__table__  # type: ignore[assignment]
    return insert(deliveries).from_select(columns, active).returning(deliveries.c.id)


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


def outcome_columns(notification_id: ColumnElement[int]) -> list[ScalarSelect[int]]:
    """`outcomes_for` as columns of a query over notifications, in DELIVERY_STATES'
    order: per state, the count of the row's deliveries. Each count is a probe of
    ix_push_deliveries_notification_status, and the page needs no second round trip."""
    deliveries: Table = PushDelivery.__table__  # type: ignore[assignment]
    d = deliveries.c
    return [
        select(func.count())
        .where(d.notification_id == notification_id, d.status == state)
        .scalar_subquery()
        for state in DELIVERY_STATES
    ]
