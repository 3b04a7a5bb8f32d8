"""Writing webhook events: one outbox row per event, in the transaction that caused it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.core.db import utcnow
from server.integrations.models import Integration
from server.integrations.webhooks.models import WebhookDelivery

GIVE_UP_AFTER = timedelta(hours=24)  # retried with backoff until then, then failed


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


async def emit(
    session: AsyncSession, type: str, events: Sequence[tuple[int, dict[str, Any]]]
) -> int:
    """Queue `type` for each (user id, data) whose user belongs to an integration with a
    webhook URL subscribed to `type`; `data` gains the vendor's `sub`. Other users (own
    accounts, integrations without webhooks) are skipped. Returns the rows written."""
    user_ids = {user_id for user_id, _ in events}
    if not user_ids:
        return 0
    found = await session.execute(
        select(User.id, User.external_sub, Integration.id, Integration.webhook_events)
        .join(Integration, Integration.id == User.integration_id)
        .where(User.id.in_(user_ids), Integration.webhook_url.is_not(None))
    )
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
    session.add_all(rows)
    return len(rows)
