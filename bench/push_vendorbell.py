"""vendorbell's side of bench/bench_push.py: a fan-out's outbox rows written in bulk, then
the delivery worker run until none is queued."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

NOTICE = {
    "type": "system",
    "event": "system.notice",
    "title": "Scheduled maintenance tonight",  # bench.push_verify.TITLE
    "body": "The marketplace will be read-only from 02:00 to 02:30 UTC.",
    "url": "/notifications",
}


async def seed_fanout(
    settings: Any, base: str, keys: list[tuple[str, str]], kid: str, tag: str = "v"
) -> float:
    """N vendors with one subscription each (endpoint `base`/<index in keys>); one system
    notice to all: notification and outbox rows in bulk, as the notification service
    writes them. Returns seconds taken by the notice (the vendors are set-up)."""
    from server.core.db import make_database

    database = make_database(settings)
    try:
        users, subscription_ids = await seed_vendors(database, base, keys, kid, tag)
        started = time.perf_counter()
        await seed_notice(database, settings, users, subscription_ids)
        return time.perf_counter() - started
    finally:
        await database.dispose()


async def seed_vendors(
    database: Any, base: str, keys: list[tuple[str, str]], kid: str, tag: str
) -> tuple[list[int], list[int]]:
    """Vendors and their subscriptions, in bulk: (user ids, subscription ids)."""
    from sqlalchemy import insert

    from server.accounts.models import User
    from server.core.db import utcnow
    from server.push.models import PushSubscription

    now = utcnow()
    async with database.writer() as session:
        users = list(
            await session.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"{tag}{n}@bench.invalid",
                        "name": f"Vendor {n}",
                        "role": "vendor",
                        "password_hash": "!",
                        "created_at": now,
                    }
                    for n in range(len(keys))
                ],
            )
        )
        subscriptions = await session.scalars(
            insert(PushSubscription).returning(PushSubscription.id, sort_by_parameter_order=True),
            [
                {
                    "user_id": uid,
                    "endpoint": f"{base}/{index}",
                    "p256dh": p,
                    "auth": a,
                    "vapid_key_id": kid,
                    "muted": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for index, (uid, (p, a)) in enumerate(zip(users, keys, strict=True))
            ],
        )
        subscription_ids = list(subscriptions)
        await session.commit()
    return users, subscription_ids


async def seed_notice(
    database: Any, settings: Any, users: list[int], subscription_ids: list[int]
) -> None:
    """The notice's notification rows and one queued outbox row each, in bulk."""
    from sqlalchemy import insert

    from server.core.db import utcnow
    from server.notifications.models import Notification
    from server.push.models import PushDelivery
    from server.push.payload import build_message

    async with database.writer() as session:
        now = utcnow()
        notifications = list(
            await session.scalars(
                insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
                [{"user_id": uid, **NOTICE, "data": {}, "created_at": now} for uid in users],
            )
        )
        rows = []
        for uid, nid, sid in zip(users, notifications, subscription_ids, strict=True):
            note = Notification(id=nid, user_id=uid, **NOTICE, data={})
            message = build_message(note, app_badge=1, link_base=settings.public_url)
            rows.append(queued_delivery(nid, sid, message, now))
        await session.execute(insert(PushDelivery), rows)
        await session.commit()


def queued_delivery(
    notification_id: int, subscription_id: int, message: Any, now: datetime
) -> dict[str, Any]:
    """An outbox row as `enqueue_push` writes it, due now (bulk seeding)."""
    return {
        "notification_id": notification_id,
        "subscription_id": subscription_id,
        "status": "queued",
        "payload": message.payload,
        "ttl": message.ttl,
        "urgency": message.urgency,
        "topic": message.topic,
        "attempts": 0,
        "created_at": now,
        "due_at": now,
        "expires_at": now + timedelta(seconds=message.ttl),
    }


async def run_vendorbell(settings: Any, n: int, client: Any = None) -> None:
    """The delivery worker until no row is queued; `client`: its PushClient (default: the
    service's own, Http1Client with the system's trust store)."""
    from sqlalchemy import select

    from server.core.db import make_database
    from server.push.keys import KeyStore
    from server.push.models import PushDelivery
    from server.push.sender import Sender
    from server.push.worker import DeliveryWorker

    database = make_database(settings)
    keys = KeyStore.load_or_create(settings)
    sender = Sender(settings, keys, client) if client is not None else None
    worker = DeliveryWorker(database, settings, keys, sender=sender)
    await worker.start()
    try:
        while True:
            await asyncio.sleep(0.05)
            async with database.reader() as session:  # one index probe, not a count
                left = await session.scalar(
                    select(PushDelivery.id).where(PushDelivery.status == "queued").limit(1)
                )
            if left is None:
                break
    finally:
        await worker.stop()
        await database.dispose()
