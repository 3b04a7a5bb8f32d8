"""Reading the inbox: pages, counts, and read/seen state."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy import CompoundSelect, Integer, bindparam, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.bulk import among
from server.core.db import utcnow
from server.core.errors import Invalid, NotFound
from server.core.ids import is_ascii_digits, parse_id
from server.core.unit_of_work import UnitOfWork
from server.notifications.counts import COUNTS, Counts
from server.notifications.models import Notification
from server.notifications.types import KINDS
from server.push.receipts import receipt_device


def encode_cursor(notification_id: int) -> str:
    return base64.urlsafe_b64encode(f"n:{notification_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix == "n" and is_ascii_digits(value):
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise Invalid("The cursor is not one this server gave out.", code="invalid_cursor")


async def notifications_since(
    session: AsyncSession, user_id: int, since_id: int, limit: int = 500
) -> Sequence[Notification]:
    """What a reconnecting client missed, oldest first."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.id > since_id)
        .order_by(Notification.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


def _counts_statement() -> CompoundSelect[str, int]:
    user = bindparam("user_id", type_=Integer())
    unread = (
        select(Notification.type.label("k"), func.count().label("n"))
        .where(Notification.user_id == user, Notification.read_at.is_(None))
        .group_by(Notification.type)
    )
    unseen = select(literal("_unseen").label("k"), func.count().label("n")).where(
        Notification.user_id == user, Notification.seen_at.is_(None)
    )
    return union_all(unread, unseen)


# Built once: constructing this statement cost more CPU (~0.7 ms) than running it,
# and it runs with every notification written.
_COUNTS = _counts_statement()


async def counts(uow: UnitOfWork, user_id: int) -> Counts:
    """Unread by type and unseen, in one round trip served by two partial indexes."""
    return await read_counts(uow.session, user_id)


async def read_counts(session: AsyncSession, user_id: int) -> Counts:
    """`counts` straight from the database (the live channel's replay has no unit)."""
    rows = (await session.execute(_COUNTS, {"user_id": user_id})).all()
    by_type = dict.fromkeys(KINDS, 0)
    unseen_count = 0
    for key, n in rows:
        if key == "_unseen":
            unseen_count = n
        else:
            by_type[key] = n
    return Counts(unread=sum(by_type.values()), unseen=unseen_count, by_type=by_type)


async def read_counts_of(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, Counts]:
    """`read_counts` for many users in one round trip (a fan-out's badges and events)."""
    if not user_ids:
        return {}
    unread = (
        select(Notification.user_id, Notification.type.label("k"), func.count().label("n"))
        .where(among(session, Notification.user_id, user_ids), Notification.read_at.is_(None))
        .group_by(Notification.user_id, Notification.type)
    )
    unseen = (
        select(Notification.user_id, literal("_unseen").label("k"), func.count().label("n"))
        .where(among(session, Notification.user_id, user_ids), Notification.seen_at.is_(None))
        .group_by(Notification.user_id)
    )
    found = {user_id: Counts(0, 0, dict.fromkeys(KINDS, 0)) for user_id in user_ids}
    for user_id, key, n in await session.execute(union_all(unread, unseen)):
        counts = found[user_id]
        if key == "_unseen":
            counts.unseen = n
        else:
            counts.by_type[key] = n
            counts.unread += n
    return found


async def cached_counts(uow: UnitOfWork, user_id: int) -> Counts:
    """`counts`, served from this process's cache when it is on (see server.core.cache)."""
    if uow.caches is None:
        return await counts(uow, user_id)
    return await uow.caches[COUNTS].get_or_load(user_id, lambda: counts(uow, user_id))


def invalidate_counts_after_commit(uow: UnitOfWork, user_id: int) -> None:
    """Drop the cached counts once this transaction's change to them is visible."""
    if uow.caches is not None:
        uow.invalidate_after_commit(uow.caches[COUNTS], user_id)


def invalidate_many_counts_after_commit(uow: UnitOfWork, user_ids: Sequence[int]) -> None:
    """`invalidate_counts_after_commit` for many users (one message to the others)."""
    if uow.caches is not None:
        uow.invalidate_after_commit(uow.caches[COUNTS], *user_ids)


async def get_own(session: AsyncSession, user_id: int, raw_id: str) -> Notification:
    notification_id = parse_id(raw_id)
    notification = (
        await session.get(Notification, notification_id) if notification_id is not None else None
    )
    if notification is None or notification.user_id != user_id:
        raise NotFound("No such notification.", code="notification_not_found")
    return notification


async def get_by_receipt(
    session: AsyncSession, secret: str, raw_id: str, receipt: str
) -> Notification:
    """The notification a push's receipt token (server.push.receipts) was sent with."""
    notification_id = parse_id(raw_id)
    valid = notification_id is not None and receipt_device(secret, notification_id, receipt)
    notification = await session.get(Notification, notification_id) if valid else None
    if notification is None:
        raise NotFound("No such notification.", code="notification_not_found")
    return notification


async def mark_read(session: AsyncSession, notification: Notification) -> bool:
    """Read implies seen. Returns whether anything changed (marking twice is a no-op)."""
    if notification.read_at is not None:
        return False
    now = utcnow()
    notification.read_at = now
    notification.read_in_bulk = False  # opened by the person: a reading time
    if notification.seen_at is None:
        notification.seen_at = now
    await session.flush()
    return True


async def mark_all_read(session: AsyncSession, user_id: int) -> list[int]:
    """Reads every unread row, flagged read_in_bulk: nobody opened them, so analytics
    counts them as read but not in the median time to read. The ids it read."""
    now = utcnow()
    result = await session.scalars(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now, read_in_bulk=True, seen_at=func.coalesce(Notification.seen_at, now))
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return list(result)


async def mark_all_seen(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.seen_at.is_(None))
        .values(seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def record_event(session: AsyncSession, notification: Notification, event: str) -> bool:
    """A service-worker report; `clicked` also reads it. Returns whether read state changed."""
    now = utcnow()
    if event == "shown" and notification.shown_at is None:
        notification.shown_at = now
    elif event == "clicked":
        notification.shown_at = notification.shown_at or now
        notification.clicked_at = notification.clicked_at or now
        return await mark_read(session, notification)
    await session.flush()
    return False
