"""Outbox rows written straight into the database, for worker tests."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, insert, select

from server.accounts.models import User
from server.core.config import Settings
from server.core.db import make_database, utcnow
from server.notifications.models import Notification
from server.push.models import PushDelivery, PushSubscription
from tests.pushservice import PushService


async def queue_deliveries(
    settings: Settings,
    service: PushService,
    key_id: str,
    *,
    total: int,
    devices: int = 20,
    ttl: int = 3600,
    email: str = "v@example.com",
) -> list[int]:
    """Insert `total` queued deliveries spread over `devices` new browser subscriptions
    (for a new user `email`); returns their ids."""
    browsers = [service.subscribe() for _ in range(devices)]
    database = make_database(settings)
    now = utcnow()
    async with database.writer() as session:
        user_id = await session.scalar(
            insert(User).returning(User.id),
            [{"email": email, "name": "V", "role": "vendor", "password_hash": "x",
              "created_at": now}],
        )  # fmt: skip
        sub_ids = list(
            await session.scalars(
                insert(PushSubscription).returning(PushSubscription.id),
                [{"user_id": user_id, "endpoint": d.endpoint, "p256dh": d.p256dh,
                  "auth": d.to_json()["keys"]["auth"], "vapid_key_id": key_id, "muted": False,
                  "created_at": now, "updated_at": now} for d in browsers],
            )
        )  # fmt: skip
        notification_id = await session.scalar(
            insert(Notification).returning(Notification.id),
            [{"user_id": user_id, "type": "system", "event": "system.notice", "title": "t",
              "body": "b", "url": "/", "data": {}, "created_at": now}],
        )  # fmt: skip
        ids = await session.scalars(
            insert(PushDelivery).returning(PushDelivery.id, sort_by_parameter_order=True),
            [{"notification_id": notification_id, "subscription_id": sub_ids[n % devices],
              "status": "queued", "payload": json.dumps({"seq": n}), "ttl": ttl,
              "urgency": "normal", "topic": None, "attempts": 0, "created_at": now,
              "due_at": now, "expires_at": now + timedelta(seconds=ttl)} for n in range(total)],
        )  # fmt: skip
        delivery_ids = list(ids)
        await session.commit()
    await database.dispose()
    return delivery_ids


async def statuses(settings: Settings) -> dict[str, int]:
    database = make_database(settings)
    async with database.reader() as session:
        rows = await session.execute(
            select(PushDelivery.status, func.count()).group_by(PushDelivery.status)
        )
        result = {status: int(n) for status, n in rows}
    await database.dispose()
    return result
