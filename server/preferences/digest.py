"""Releasing pushes held during quiet hours: one digest per type when they end.

A small loop in each web process calls `release_held` every `INTERVAL` seconds;
tests call it directly with the time they want, so nothing waits on a real clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database, commit, session_settings
from server.notifications import inbox
from server.notifications.models import Notification
from server.preferences import service
from server.preferences.models import HeldPush
from server.push.outbox import enqueue_push

log = logging.getLogger("vendorbell.preferences")

INTERVAL = 30.0  # seconds: quiet hours end at most this late
USERS_PER_TICK = 500

_NOUNS = {
    "order": ("new order", "new orders"),
    "payment": ("payment", "payments"),
    "message": ("new message", "new messages"),
    "system": ("notice", "notices"),
}


def digest_title(type: str, count: int) -> str:
    """'7 new orders while you were away'."""
    one, many = _NOUNS.get(type, ("notification", "notifications"))
    return f"{count} {one if count == 1 else many} while you were away"


async def release_held(session: AsyncSession, now: datetime) -> int:
    """Queue the digests of every user whose quiet hours are over; how many were queued."""
    user_ids = (
        await session.scalars(select(HeldPush.user_id).distinct().limit(USERS_PER_TICK))
    ).all()
    released = 0
    for user_id in user_ids:
        prefs = await service.load(session, user_id)
        if prefs.quiet.active(now):
            continue
        # DELETE … RETURNING claims the rows: a concurrent releaser gets none of them.
        rows = (
            await session.execute(
                delete(HeldPush)
                .where(HeldPush.user_id == user_id)
                .returning(HeldPush.type, HeldPush.notification_id)
            )
        ).all()
        held: dict[str, list[int]] = defaultdict(list)
        for type_, notification_id in rows:
            if prefs.channels(type_).push:  # switched off since: drop quietly
                held[type_].append(notification_id)
        for type_, ids in held.items():
            await _queue_digest(session, user_id, type_, ids)
            released += 1
    return released


async def _queue_digest(session: AsyncSession, user_id: int, type: str, ids: list[int]) -> None:
    latest = await session.get(Notification, max(ids))
    if latest is None:  # deleted with its user meanwhile
        return
    counts = await inbox.counts(session, user_id)
    public_url = session_settings(session).public_url
    if len(ids) == 1:
        await enqueue_push(session, latest, app_badge=counts.unseen, public_url=public_url)
        return
    # A push-only stand-in: the inbox already lists every held notification, so
    # the digest is not another row; its deliveries point at the latest one.
    digest = Notification(
        id=latest.id,
        user_id=user_id,
        type=type,
        event=f"{type}.digest",
        title=digest_title(type, len(ids)),
        body=f"Latest: {latest.title}",
        url=f"/notifications?type={type}",
        data={"digest": len(ids)},
    )
    await enqueue_push(session, digest, app_badge=counts.unseen, public_url=public_url)
    log.info("preferences.digest.queued", extra={"user_id": user_id, "type": type, "n": len(ids)})


async def run_release_loop(database: Database, interval: float = INTERVAL) -> None:
    """Forever: wait, then release what is due. Errors are logged, never fatal.

    Every web process runs it (claims make that safe); waiting first keeps
    short-lived apps (tests, one-off commands) from writing in the background.
    """
    while True:
        await asyncio.sleep(interval)
        try:
            async with database.writer() as session:
                await release_held(session, service.now())
                await commit(session)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("preferences.digest.failed")
