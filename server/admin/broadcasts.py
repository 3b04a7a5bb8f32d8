"""Broadcasts: a system notification to every user in an audience, through notify().

The fan-out runs after the request, in chunks of `CHUNK` users, one transaction per
chunk (notifications, their push deliveries and the cursor commit together), so a
restart resumes where it stopped and nobody is notified twice.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.admin.models import Broadcast, BroadcastNotification
from server.admin.schemas import BroadcastIn, BroadcastOut
from server.db import Database, after_commit, commit, utcnow
from server.errors import NotFound
from server.ids import parse_id
from server.notifications.schemas import PushOutcome
from server.notifications.service import notify
from server.preferences import service as preferences
from server.push.models import PushDelivery

log = logging.getLogger("vendorbell.admin")

CHUNK = 250
_ROLES = {"vendors": ("vendor",), "customers": ("customer",), "all": ("vendor", "customer")}
_running: set[asyncio.Task[None]] = set()


async def create(
    session: AsyncSession, database: Database, admin: User, body: BroadcastIn
) -> Broadcast:
    """Record the broadcast; its fan-out starts once this transaction commits."""
    broadcast = Broadcast(
        created_by=admin.id, status="queued", recipients=0, last_user_id=0, **body.model_dump()
    )
    session.add(broadcast)
    await session.flush()
    broadcast_id = broadcast.id

    async def start() -> None:
        start_fan_out(database, broadcast_id)

    after_commit(session, start)
    return broadcast


def start_fan_out(database: Database, broadcast_id: int) -> None:
    task = asyncio.create_task(fan_out(database, broadcast_id))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def wait_idle() -> None:
    """Wait for running fan-outs to finish (tests, the CLI)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


async def stop_all() -> None:
    """Shutdown: stop fan-outs mid-way; the uncommitted chunk rolls back and resumes later."""
    for task in list(_running):
        task.cancel()
    await asyncio.gather(*list(_running), return_exceptions=True)


async def fan_out(database: Database, broadcast_id: int) -> None:
    try:
        while await _send_chunk(database, broadcast_id):
            pass
    except Exception:
        log.exception("admin.broadcast.failed", extra={"broadcast_id": broadcast_id})


async def _send_chunk(database: Database, broadcast_id: int) -> bool:
    """Notify the next CHUNK users; False once everyone has been."""
    async with database.writer() as session:
        # Row lock (PostgreSQL; SQLite writers are serial anyway): two processes
        # resuming the same broadcast take turns and never send a chunk twice.
        broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
        if broadcast is None or broadcast.status == "done":
            return False
        user_ids = (
            await session.scalars(
                select(User.id)
                .where(User.role.in_(_ROLES[broadcast.audience]), User.id > broadcast.last_user_id)
                .order_by(User.id)
                .limit(CHUNK)
            )
        ).all()
        links = []
        await preferences.preload(session, user_ids)
        for user_id in user_ids:
            notification = await notify(
                session,
                user_id,
                type="system",
                event="system.broadcast",
                title=broadcast.title,
                body=broadcast.body,
                url=broadcast.url,
                data={"broadcast_id": str(broadcast.id)},
            )
            if notification.id is not None:  # None: the user switched system notices off
                links.append(
                    BroadcastNotification(
                        broadcast_id=broadcast.id, notification_id=notification.id
                    )
                )
        session.add_all(links)
        broadcast.recipients += len(links)
        if user_ids:
            broadcast.last_user_id = user_ids[-1]
            broadcast.status = "sending"
        else:
            broadcast.status = "done"
            broadcast.finished_at = utcnow()
        await commit(session)
        log.info(
            "admin.broadcast.chunk",
            extra={
                "broadcast_id": broadcast_id,
                "users": len(user_ids),
                "status": broadcast.status,
            },
        )
        return bool(user_ids)


async def resume_unfinished(database: Database) -> None:
    """After a restart: carry on with broadcasts that had not finished."""
    async with database.reader() as session:
        ids = (await session.scalars(select(Broadcast.id).where(Broadcast.status != "done"))).all()
    for broadcast_id in ids:
        start_fan_out(database, broadcast_id)


async def recent(session: AsyncSession, limit: int = 50) -> list[BroadcastOut]:
    """The latest broadcasts, newest first (push outcomes only on the single view)."""
    rows = await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
    return [BroadcastOut.model_validate(row) for row in rows]


async def progress(session: AsyncSession, raw_id: str) -> BroadcastOut:
    key = parse_id(raw_id)
    broadcast = await session.get(Broadcast, key) if key is not None else None
    if broadcast is None:
        raise NotFound("No such broadcast.", code="broadcast_not_found")
    rows = await session.execute(
        select(PushDelivery.status, func.count())
        .join(
            BroadcastNotification,
            BroadcastNotification.notification_id == PushDelivery.notification_id,
        )
        .where(BroadcastNotification.broadcast_id == broadcast.id)
        .group_by(PushDelivery.status)
    )
    push = PushOutcome(**{status: n for status, n in rows})
    return BroadcastOut.model_validate(broadcast).model_copy(update={"push": push})
