"""The generic notification service: one notification written, decided and fanned out.

A notification row, what each channel switched on queues for it (server.notifications.
channels: push deliveries, webhook events) and the domain change are written in the
caller's transaction; the live event is published only after commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.service import locale_of
from server.core.db import utcnow
from server.core.hooks import Hook
from server.core.languages import DEFAULT, Language, language
from server.core.unit_of_work import UnitOfWork
from server.notifications import inbox, texts
from server.notifications.channels import CHANNELS
from server.notifications.content import Content
from server.notifications.counts import Counts
from server.notifications.live import counts_message, notification_message
from server.notifications.models import Notification
from server.notifications.preferences import rules
from server.notifications.preferences import service as preferences
from server.notifications.wire import wire_of


async def notify(
    uow: UnitOfWork,
    user_id: int,
    *,
    prefs: rules.Preferences | None = None,
    **content: Unpack[Content],
) -> Notification:
    """Write one notification for `user_id`, queue its pushes, publish it after commit.

    `title` and `body` are in `lang` (the push says so): the recipient's language
    (`recipient_language`) for texts written here, English for texts not translated.
    The user's preferences decide here, and only here, whether the inbox row is
    written and whether the push goes now, waits for the quiet-hours digest, or not
    at all (server.notifications.preferences). A caller that already loaded them (an
    order event: server.orders.notices) hands them in as `prefs`.
    """
    type, event = content["type"], content["event"]
    if prefs is None:
        decision = await preferences.decide_for(uow, user_id, type=type, event=event)
    else:
        decision = rules.decide(prefs, type=type, event=event, now=preferences.now())
    notification = Notification(
        user_id=user_id,
        type=type,
        event=event,
        title=content["title"][:200],
        body=content["body"],
        url=content["url"],
        data=content.get("data") or {},
        lang=content.get("lang", DEFAULT),
        created_at=utcnow(),
    )
    if not decision.stored:
        return notification  # neither inbox nor push wanted: nothing is written
    notification.wire = wire_of(notification)
    if not decision.inbox:  # push only: the row is the push's record, never unread
        notification.seen_at = notification.read_at = utcnow()
    uow.session.add(notification)
    await uow.session.flush()
    inbox.invalidate_counts_after_commit(uow, user_id)
    counts = await inbox.counts(uow, user_id)
    for channel in uow.hooks.each(CHANNELS):
        if channel.switched_on(decision):
            await channel.deliver(uow, notification, decision, counts)
    if not decision.inbox:
        return notification
    message = notification_message(notification, counts)

    async def publish() -> None:
        await uow.hub.publish(user_id, message)

    uow.after_commit(publish)
    return notification


async def recipient_language(uow: UnitOfWork, user_id: int) -> Language:
    """The language `user_id` reads; their row is usually in the session already (an
    order's vendor and customer are loaded with it), so this costs no query."""
    return language(await locale_of(uow.session, user_id))


async def system_notice(
    uow: UnitOfWork,
    user_id: int,
    *,
    title: str,
    body: str,
    url: str = "/notifications",
    event: str = "system.notice",
    lang: str = DEFAULT,
) -> Notification:
    return await notify(
        uow, user_id, type="system", event=event, title=title, body=body, url=url, lang=lang
    )


async def push_test_notice(uow: UnitOfWork, user_id: int) -> int:
    """The test notification POST /api/push/test sends to each of the user's devices, in
    their language; its id (push reaches this through a hook: server.background)."""
    lang = await recipient_language(uow, user_id)
    title, body = texts.push_test(lang)
    notification = await system_notice(
        uow, user_id, title=title, body=body, event="system.push_test", lang=lang.code
    )
    return notification.id


# Notifications shown, clicked or read for the first time ("shown", "clicked", "read"),
# as (user id, notification id), in the transaction recording it (the marketplace
# webhooks: server.background).
NOTIFICATION_EVENTS: Hook[
    Callable[[AsyncSession, str, Sequence[tuple[int, int]]], Awaitable[None]]
] = Hook("notifications.events")


async def read(uow: UnitOfWork, user_id: int, raw_id: str) -> Notification:
    """Mark the user's notification read (a no-op the second time); tell every tab."""
    notification = await inbox.get_own(uow.session, user_id, raw_id)
    if await inbox.mark_read(uow.session, notification):
        await publish_counts(uow, user_id)
        await _happened(uow, "read", [notification])
    return notification


async def read_all(uow: UnitOfWork, user_id: int) -> int:
    """Mark every unread notification of the user read; tell every tab, and the hooks
    of each one (a marketplace hears `notification.read` per notification, as one by one)."""
    ids = await inbox.mark_all_read(uow.session, user_id)
    if ids:
        await publish_counts(uow, user_id)
        await _report(uow, "read", [(user_id, id) for id in ids])
    return len(ids)


async def record_receipt(uow: UnitOfWork, user_id: int, raw_id: str, event: str) -> None:
    """A service worker's report that a push was shown or clicked (a click reads it)."""
    notification = await inbox.get_own(uow.session, user_id, raw_id)
    before = (notification.shown_at, notification.clicked_at, notification.read_at)
    if await inbox.record_event(uow.session, notification, event):
        await publish_counts(uow, user_id)
    after = (notification.shown_at, notification.clicked_at, notification.read_at)
    for what, was, now in zip(("shown", "clicked", "read"), before, after, strict=True):
        if was is None and now is not None:
            await _happened(uow, what, [notification])


async def _happened(uow: UnitOfWork, what: str, notifications: Sequence[Notification]) -> None:
    await _report(uow, what, [(n.user_id, n.id) for n in notifications])


async def _report(uow: UnitOfWork, what: str, notifications: Sequence[tuple[int, int]]) -> None:
    for hook in uow.hooks.each(NOTIFICATION_EVENTS):
        await hook(uow.session, what, notifications)


async def publish_counts(uow: UnitOfWork, user_id: int) -> Counts:
    """After a read or seen change commits, tell every tab of the user the new counts."""
    inbox.invalidate_counts_after_commit(uow, user_id)
    counts = await inbox.counts(uow, user_id)
    message = counts_message(counts)

    async def publish() -> None:
        await uow.hub.publish(user_id, message)

    uow.after_commit(publish)
    return counts
