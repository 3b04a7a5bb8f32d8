"""Writing webhook events: one outbox row per event, in the transaction that caused it.

Once that transaction commits, `WEBHOOKS_QUEUED` carries the rows' ids to the webhook
loop (server.integrations.webhooks.worker), here or, relayed, in a worker process, so an
event leaves at once rather than at the loop's next poll. A transaction opened without a
unit of work (nothing to signal with) leaves its rows to that poll.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.core.bulk import among_param, is_postgresql
from server.core.db import utcnow
from server.core.signals import SignalSpec, id_list
from server.core.unit_of_work import unit_of
from server.integrations.models import Integration
from server.integrations.webhooks.models import WebhookDelivery

GIVE_UP_AFTER = timedelta(hours=24)  # retried with backoff until then, then failed
WEBHOOKS_QUEUED = SignalSpec("webhooks", id_list)  # outbox row ids, once committed


@functools.cache
def _targets(postgresql: bool) -> Any:
    """Built once per database: it runs with most notifications, and building it cost
    more than running it."""
    return (
        select(User.id, User.external_sub, Integration.id, Integration.webhook_events)
        .join(Integration, Integration.id == User.integration_id)
        .where(among_param(User.id, "ids", postgresql), Integration.webhook_url.is_not(None))
    )


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


async def emit(
    session: AsyncSession, type: str, events: Sequence[tuple[int, dict[str, Any]]]
) -> int:
    """Queue `type` for each (user id, data) whose user belongs to an integration with a
    webhook URL subscribed to `type`; `data` gains the vendor's `sub`. Other users (own
    accounts, integrations without webhooks) are skipped. Returns the rows written."""
    user_ids = _maybe_marketplace(session, {user_id for user_id, _ in events})
    if not user_ids:
        return 0
    found = await session.execute(_targets(is_postgresql(session)), {"ids": list(user_ids)})
    targets = {
        user_id: (sub, integration_id)
        for user_id, sub, integration_id, subscribed in found
        if type in subscribed
    }
    now = utcnow()
    rows = []
    for user_id, data in events:
        if user_id not in targets:
            continue
        sub, integration_id = targets[user_id]
        event_id = new_event_id()
        body = {
            "id": event_id,
            "type": type,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "data": {**data, "sub": sub},
        }
        rows.append(
            WebhookDelivery(
                event_id=event_id,
                integration_id=integration_id,
                type=type,
                body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                status="queued",
                attempts=0,
                created_at=now,
                due_at=now,
                give_up_at=now + GIVE_UP_AFTER,
            )
        )
    if not rows:
        return 0
    session.add_all(rows)
    await session.flush()  # the ids the signal carries
    _signal_after_commit(session, [row.id for row in rows])
    return len(rows)


def _maybe_marketplace(session: AsyncSession, user_ids: set[int]) -> set[int]:
    """`user_ids` less those the session already holds as vendorbell's own accounts
    (no integration: no webhook), so an order's notice to its vendor, loaded with the
    order, costs no query. A user's integration never changes after the user is made."""
    sync = session.sync_session
    keep = set()
    for user_id in user_ids:
        user = sync.identity_map.get(sync.identity_key(User, user_id))
        # Read from the loaded state only: an expired attribute would be a query.
        loaded = inspect(user).dict if user is not None else {}
        if loaded.get("integration_id", "unknown") is not None:
            keep.add(user_id)
    return keep


def _signal_after_commit(session: AsyncSession, ids: list[int]) -> None:
    unit = unit_of(session)
    if unit is None:
        return
    signal = unit.signals[WEBHOOKS_QUEUED]

    async def committed() -> None:
        signal.send(ids)

    unit.after_commit(committed)
