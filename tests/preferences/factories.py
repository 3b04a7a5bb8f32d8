"""Small factories for the extras tests: devices and push deliveries, straight in the DB."""

from __future__ import annotations

import itertools
import json
from typing import Any

from sqlalchemy import select

from server.notifications.models import Notification
from server.push.models import PushDelivery, PushSubscription

_n = itertools.count(1)


async def add_device(app: Any, user_id: str | int, *, muted: bool = False) -> str:
    """A push subscription row (endpoint never contacted: no worker runs in these tests)."""
    async with app.state.db.writer() as session:
        sub = PushSubscription(
            user_id=int(user_id),
            endpoint=f"http://127.0.0.1:9/push/{next(_n)}",
            p256dh="BPx",
            auth="auth",
            vapid_key_id="test",
            muted=muted,
        )
        session.add(sub)
        await session.commit()
        return str(sub.id)


async def deliveries(app: Any, user_id: str | int) -> list[dict[str, Any]]:
    """The user's push deliveries, oldest first, with the decoded notification payload."""
    async with app.state.db.reader() as session:
        rows = (
            await session.execute(
                select(PushDelivery, Notification.user_id)
                .join(Notification, Notification.id == PushDelivery.notification_id)
                .where(Notification.user_id == int(user_id))
                .order_by(PushDelivery.id)
            )
        ).all()
    return [
        {
            "notification_id": str(d.notification_id),
            "subscription_id": str(d.subscription_id),
            "status": d.status,
            **json.loads(d.payload)["notification"],
        }
        for d, _ in rows
    ]
