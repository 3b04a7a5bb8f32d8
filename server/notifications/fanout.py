"""Set-based fan-out: one notification to many users, in a few statements per batch.

`notify` (server.notifications.service) writes one user's notification in a handful
of round trips, about a millisecond; a broadcast to 100,000 users spent minutes
that way. `notify_many` writes the very same rows for a batch of users with a fixed
number of statements, whatever the batch size:

1. the batch's preferences in one query, then `rules.decide` per user in Python: it
   is pure and takes microseconds, and asking it (rather than restating time-zone
   quiet hours in SQL) keeps one rule for both paths;
2. one multi-row INSERT … RETURNING of the notification rows;
3. one grouped count of the recipients' unread and unseen rows (badge and live event);
4. each channel's batch (server.notifications.channels): for push, one INSERT … SELECT
   of the deliveries and one INSERT of the pushes held for quiet hours; for a
   marketplace's webhooks, one INSERT of the events.

After commit, per batch: one hook drops the counts caches, the outbox signals every
delivery id once, and one hook publishes every live event.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Unpack

from sqlalchemy import Boolean, Integer, Table, bindparam, case, insert, null, select
from sqlalchemy.sql.dml import ReturningInsert

from server.core.bulk import RowSet, is_postgresql
from server.core.db import utcnow
from server.core.languages import DEFAULT
from server.core.unit_of_work import UnitOfWork
from server.notifications import inbox
from server.notifications.channels import CHANNELS, Written
from server.notifications.content import Content
from server.notifications.live import notification_message
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences
from server.notifications.preferences.rules import Decision
from server.notifications.wire import render_wire


async def notify_many(
    uow: UnitOfWork, user_ids: Sequence[int], **content: Unpack[Content]
) -> dict[int, int]:
    """`notify` for each of `user_ids`, set-based; user id → notification id written
    (users whose preferences want neither inbox nor push get none). One text for all,
    in `lang` (a broadcast: the language its admin wrote it in)."""
    if not user_ids:
        return {}
    type = content["type"]
    decisions = await preferences.decide_many(uow, user_ids, type=type, event=content["event"])
    stored = [user_id for user_id in user_ids if decisions[user_id].stored]
    if not stored:
        return {}
    notifications = await _insert_notifications(uow, stored, decisions, content)
    inbox.invalidate_many_counts_after_commit(uow, stored)
    counts = await inbox.read_counts_of(uow.session, stored)
    for channel in uow.hooks.each(CHANNELS):
        batch = [n for n in notifications if channel.switched_on(decisions[n.user_id])]
        if batch:
            await channel.deliver_many(uow, batch, decisions, counts)
    _publish_after_commit(
        uow,
        [
            (n.user_id, notification_message(n, counts[n.user_id]))
            for n in notifications
            if decisions[n.user_id].inbox  # push only: no inbox row to show, as in `notify`
        ],
    )
    return {n.user_id: n.id for n in notifications}


def _publish_after_commit(uow: UnitOfWork, messages: list[tuple[int, dict[str, Any]]]) -> None:
    """Every live event of the batch, from one after-commit hook."""
    if not messages:
        return
    hub = uow.hub

    async def publish() -> None:
        for user_id, message in messages:
            await hub.publish(user_id, message)

    uow.after_commit(publish)


# Per row: the recipient, and whether the row is in their inbox (else it is only the
# record of a push: read and seen at once, as in `notify`).
RECIPIENTS = RowSet("recipients", (("user_id", Integer()), ("inbox", Boolean())))


async def _insert_notifications(
    uow: UnitOfWork, user_ids: Sequence[int], decisions: dict[int, Decision], content: Content
) -> list[Written]:
    """The rows, inserted at once (server.core.bulk); returned as plain records carrying
    their ids (an ORM object apiece cost a quarter of the whole batch)."""
    now = utcnow()
    read = {user_id: None if decisions[user_id].inbox else now for user_id in user_ids}
    type, event, body, url = content["type"], content["event"], content["body"], content["url"]
    title, lang = content["title"][:200], content.get("lang", DEFAULT)
    data = dict(content.get("data") or {})  # one dict for all: nothing changes it
    postgresql = is_postgresql(uow.session)
    params = RECIPIENTS.parameters(postgresql, [(u, read[u] is None) for u in user_ids])
    params.update(type=type, event=event, title=title, body=body, url=url, lang=lang)
    # One text and one time for the batch: one rendering serves every row.
    wire = render_wire(
        type=type, event=event, title=title, body=body, url=url, lang=lang, data=data,
        created_at=now,
    )  # fmt: skip
    params.update(data=data, now=now, wire=wire)
    statement = _notifications_statement(postgresql, 0 if postgresql else len(user_ids))
    # Ids come back paired with their user (one row each here), in whatever order.
    ids = dict((u, i) for i, u in await uow.session.execute(statement, params))
    return [
        Written(ids[u], type, event, title, body, url, data, lang, u, now, read[u], read[u])
        for u in user_ids
    ]


@lru_cache(maxsize=8)
def _notifications_statement(postgresql: bool, rows: int) -> ReturningInsert[int, int]:
    """INSERT … SELECT of one notification per recipient, RETURNING (id, user id)."""
    source = RECIPIENTS.source(postgresql, rows)
    t = Notification.__table__
    now = bindparam("now", type_=t.c.created_at.type)
    read = case((source.c.inbox, null()), else_=now)
    constants = [bindparam(name, type_=t.c[name].type) for name in _CONSTANT]
    rows_ = select(source.c.user_id, *constants, now, read, read)
    columns = ["user_id", *_CONSTANT, "created_at", "seen_at", "read_at"]
    table: Table = t  # type: ignore[assignment]
    return insert(table).from_select(columns, rows_).returning(table.c.id, table.c.user_id)


_CONSTANT = ("type", "event", "title", "body", "url", "data", "lang", "wire")
