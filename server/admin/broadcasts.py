"""Broadcasts: a system notification to every user in an audience, through notify_many().

The fan-out runs in the worker role (server.background), in chunks of `CHUNKS` users,
one transaction per chunk (notifications, their push deliveries and the cursor commit
together), so a restart resumes where it stopped and nobody is notified twice.
An admin may cancel a broadcast that has not finished: the chunk being written when they
do still commits (its row lock makes the cancel wait for it), and no chunk follows.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache

from sqlalchemy import Integer, Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from server.accounts.models import User
from server.admin.models import FINISHED, Broadcast, BroadcastNotification
from server.admin.schemas import BroadcastIn, BroadcastOut
from server.core.bulk import RowSet, is_postgresql
from server.core.db import utcnow
from server.core.errors import Conflict, NotFound
from server.core.ids import parse_id
from server.core.signals import SignalSpec, one_id
from server.core.unit_of_work import UnitOfWork, UnitOfWorkFactory
from server.notifications.fanout import notify_many
from server.notifications.schemas import PushOutcome
from server.push.models import PushDelivery

log = logging.getLogger("vendorbell.admin")

# Users per transaction, by database. SQLite: measured with bench/fanout.py (one device
# each), rows per second stay flat from 250 to 1,000 users a batch and the transaction
# grows with the batch, ~70 µs a user; 500 keeps each near 35 ms, so the SQLite write
# lock is never held long. PostgreSQL (no such lock; rows sent as arrays, whatever their
# number): bench_scale's e2e run (1 API + 4 workers, 30,000 devices, 2026-12-07, shared
# machine) spent a chunk's time in round trips slowed by the busy worker's event loop,
# not in rows: 500 users 32.1 s, 2,000 users 18.3 s, 5,000 users 19.2 s.
CHUNKS = {"sqlite": 500, "postgresql": 2000}
POLL_SECONDS = 2.0  # how soon a worker process notices a broadcast made elsewhere
# A broadcast's id once it is committed: the fan-out loop (in this process, or relayed to
# a worker's) starts it at once instead of at its next poll.
BROADCAST_QUEUED = SignalSpec("broadcasts", one_id)
_ROLES = {"vendors": ("vendor",), "customers": ("customer",), "all": ("vendor", "customer")}


async def create(uow: UnitOfWork, admin: User, body: BroadcastIn) -> Broadcast:
    """Record the broadcast; the worker role fans it out once this is committed."""
    audience = await uow.session.scalar(
        select(func.count()).select_from(User).where(User.role.in_(_ROLES[body.audience]))
    )
    broadcast = Broadcast(
        created_by=admin.id,
        status="queued",
        recipients=0,
        recipients_total=audience or 0,
        recipients_done=0,
        last_user_id=0,
        # Typed by the admin, in the language they name or else their own: each push
        # says so, whatever its reader's.
        lang=body.lang or admin.locale,
        **body.model_dump(exclude={"lang"}),
    )
    uow.session.add(broadcast)
    await uow.session.flush()
    broadcast_id, signal = broadcast.id, uow.signals[BROADCAST_QUEUED]

    async def committed() -> None:
        signal.send(broadcast_id)

    uow.after_commit(committed)
    return broadcast


async def fan_out_pending(units: UnitOfWorkFactory) -> int:
    """Send every unfinished broadcast to its end; how many were worked on."""
    async with units.reader() as uow:
        ids = (
            await uow.session.scalars(
                select(Broadcast.id).where(Broadcast.status.not_in(FINISHED)).order_by(Broadcast.id)
            )
        ).all()
    for broadcast_id in ids:
        try:
            while await _send_chunk(units, broadcast_id):
                pass
        except Exception:
            log.exception("admin.broadcast.failed", extra={"broadcast_id": broadcast_id})
    return len(ids)


def fan_out_wake(units: UnitOfWorkFactory) -> asyncio.Event:
    """Set when this process commits a broadcast, so the loop starts it at once
    (broadcasts made elsewhere are found by the next poll, or relayed over Redis)."""
    wake = asyncio.Event()
    units.signals[BROADCAST_QUEUED].connect(lambda _: wake.set())
    return wake


async def _send_chunk(units: UnitOfWorkFactory, broadcast_id: int) -> bool:
    """Notify the next chunk of users in one transaction; False once everyone has been."""
    async with units.writer() as uow:
        session = uow.session
        # Row lock (PostgreSQL; SQLite writers are serial anyway): two processes
        # resuming the same broadcast take turns and never send a chunk twice, and a
        # cancel waits for the chunk in hand to commit.
        broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
        if broadcast is None or broadcast.status in FINISHED:
            return False
        user_ids = (
            await session.scalars(
                select(User.id)
                .where(User.role.in_(_ROLES[broadcast.audience]), User.id > broadcast.last_user_id)
                .order_by(User.id)
                .limit(CHUNKS[session.get_bind().dialect.name])
            )
        ).all()
        sent = await notify_many(
            uow,
            user_ids,
            type="system",
            event="system.broadcast",
            title=broadcast.title,
            body=broadcast.body,
            url=broadcast.url,
            data={"broadcast_id": str(broadcast.id)},
            lang=broadcast.lang,
        )
        if sent:  # users who switched system notices off get no row, hence no link
            await _link(session, broadcast.id, list(sent.values()))
        broadcast.recipients += len(sent)
        broadcast.recipients_done += len(user_ids)
        if user_ids:
            broadcast.last_user_id = user_ids[-1]
            broadcast.status = "sending"
            # Users who signed up after it was made are walked too: the count follows.
            broadcast.recipients_total = max(broadcast.recipients_total, broadcast.recipients_done)
        else:
            broadcast.status = "done"
            broadcast.finished_at = utcnow()
            # Everyone there was is walked; fewer if some were deleted on the way.
            broadcast.recipients_total = broadcast.recipients_done
        await uow.commit()
        log.info(
            "admin.broadcast.chunk",
            extra={
                "broadcast_id": broadcast_id,
                "users": len(user_ids),
                "status": broadcast.status,
            },
        )
        return bool(user_ids)


# The notifications a chunk wrote, one per row (server.core.bulk).
_NOTIFICATIONS = RowSet("sent", (("notification_id", Integer()),))


async def _link(session: AsyncSession, broadcast_id: int, notification_ids: list[int]) -> None:
    """Record which notifications the broadcast made, in one statement."""
    postgresql = is_postgresql(session)
    params = _NOTIFICATIONS.parameters(postgresql, [(n,) for n in notification_ids])
    statement = _link_statement(postgresql, 0 if postgresql else len(notification_ids))
    await session.execute(statement, {**params, "broadcast_id": broadcast_id})


@lru_cache(maxsize=8)
def _link_statement(postgresql: bool, rows: int) -> Insert:
    source = _NOTIFICATIONS.source(postgresql, rows)
    links: Table = BroadcastNotification.__table__  # type: ignore[assignment]
    chosen = select(bindparam("broadcast_id", type_=Integer()), source.c.notification_id)
    return insert(links).from_select(["broadcast_id", "notification_id"], chosen)


async def recent(session: AsyncSession, limit: int = 50) -> list[BroadcastOut]:
    """The latest broadcasts, newest first (push outcomes only on the single view)."""
    rows = await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
    return [BroadcastOut.model_validate(row) for row in rows]


async def _find(session: AsyncSession, raw_id: str, *, for_update: bool = False) -> Broadcast:
    key = parse_id(raw_id)
    broadcast = (
        await session.get(Broadcast, key, with_for_update=for_update, populate_existing=True)
        if key is not None
        else None
    )
    if broadcast is None:
        raise NotFound("No such broadcast.", code="broadcast_not_found")
    return broadcast


async def cancel(uow: UnitOfWork, raw_id: str) -> BroadcastOut:
    """Stop a queued or sending broadcast before its next chunk. The row lock waits for a
    chunk being written (PostgreSQL; SQLite writers take turns anyway), so what is
    reported is what was sent: the chunks committed before stay delivered."""
    broadcast = await _find(uow.session, raw_id, for_update=True)
    if broadcast.status in FINISHED:
        raise Conflict(f"This broadcast is already {broadcast.status}.", code="broadcast_finished")
    broadcast.status = "cancelled"
    broadcast.finished_at = utcnow()
    await uow.session.flush()
    log.info("admin.broadcast.cancelled", extra={"broadcast_id": broadcast.id})
    return await progress(uow.session, str(broadcast.id))


async def progress(session: AsyncSession, raw_id: str) -> BroadcastOut:
    broadcast = await _find(session, raw_id)
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
