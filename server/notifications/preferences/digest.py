"""Releasing pushes held during quiet hours: one digest per type when they end.

A loop of the background runtime (server.background) calls `release_held` every `INTERVAL` seconds;
tests call it directly with the time they want, so nothing waits on a real clock.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.service import locale_of
from server.core.hooks import Hook
from server.core.languages import Language, language
from server.core.unit_of_work import UnitOfWork, UnitOfWorkFactory
from server.notifications import inbox
from server.notifications.models import Notification
from server.notifications.preferences import service
from server.notifications.preferences.models import HeldPush
from server.notifications.types import KINDS
from server.push.outbox import enqueue_push

log = logging.getLogger("vendorbell.preferences")

INTERVAL = 30.0  # seconds: quiet hours end at most this late
USERS_PER_TICK = 500

# (session, type, notification ids, now): these held notifications of one type are
# released at `now`, in this transaction (orders restart their reminders after it:
# server.orders.alerts.held, registered by server.background).
DIGESTED: Hook[Callable[[AsyncSession, str, Collection[int], datetime], Awaitable[None]]] = Hook(
    "digest.released"
)


def digest_title(type: str, count: int, lang: Language) -> str:
    """'7 new orders while you were away', as the type's `Kind` words it."""
    kind = KINDS.get(type)
    if kind is not None:
        title = kind.digest(lang, count)
    else:
        title = lang.ngettext(
            "{count} notification while you were away",
            "{count} notifications while you were away",
            count,
        )
    return title.format(count=lang.number(count))


async def release_held(uow: UnitOfWork, now: datetime) -> int:
    """Queue the digests of every user whose quiet hours are over; how many were queued."""
    session = uow.session
    user_ids = (
        await session.scalars(select(HeldPush.user_id).distinct().limit(USERS_PER_TICK))
    ).all()
    released = 0
    for user_id in user_ids:
        prefs = await service.load(uow, user_id)
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
        # The digest stands for whatever else its notifications had waiting in the quiet
        # hours (an order's reminders restart one spacing after it).
        released_ids: dict[str, list[int]] = defaultdict(list)
        for type_, notification_id in rows:
            released_ids[type_].append(notification_id)
        for hook in uow.hooks.each(DIGESTED):
            for type_, ids in released_ids.items():
                await hook(session, type_, ids, now)
        for type_, ids in held.items():
            await _queue_digest(uow, user_id, type_, ids)
            released += 1
    return released


async def _queue_digest(uow: UnitOfWork, user_id: int, type: str, ids: list[int]) -> None:
    latest = await uow.session.get(Notification, max(ids))
    if latest is None:  # deleted with its user meanwhile
        return
    counts = await inbox.counts(uow, user_id)
    if len(ids) == 1:
        await enqueue_push(uow, latest, app_badge=counts.unseen)
        return
    # A push-only stand-in: the inbox already lists every held notification, so
    # the digest is not another row; its deliveries point at the latest one. Written
    # now, so in the language the user reads now.
    lang = language(await locale_of(uow.session, user_id))
    digest = Notification(
        id=latest.id,
        user_id=user_id,
        type=type,
        event=f"{type}.digest",
        title=digest_title(type, len(ids), lang),
        body=lang.gettext("Latest: {title}").format(title=latest.title),
        url=f"/notifications?type={type}",
        data={"digest": len(ids)},
        lang=lang.code,
    )
    await enqueue_push(uow, digest, app_badge=counts.unseen)
    log.info("preferences.digest.queued", extra={"user_id": user_id, "type": type, "n": len(ids)})


async def release_due(units: UnitOfWorkFactory) -> None:
    """One pass, run by the runtime every INTERVAL in the worker role (claims make
    several runners safe): release the digests that are due."""
    async with units.writer() as uow:
        await release_held(uow, service.now())
        await uow.commit()
