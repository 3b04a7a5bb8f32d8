"""Idempotency-Key on the money POSTs: a retried payment, cash payment or refund is
recorded once.

A key belongs to the user who sends it (the payer, or the vendor recording cash or a
refund) and to one request: the same key with the same request answers as the first
time did; the same key with another request (another amount, order or kind) is a 409.
A unique index on (recorded_by_id, idempotency_key) makes two requests racing with one
key record once, whatever the database.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.errors import Conflict
from server.orders.models import OrderPayment


def money_digest(kind: str, order_id: int, amount_cents: int, reason: str | None) -> str:
    """What the request asked for, so that a reused key for something else is refused."""
    request = [kind, order_id, amount_cents, reason]
    return hashlib.sha256(json.dumps(request).encode()).hexdigest()


async def already_recorded(session: AsyncSession, user_id: int, key: str, digest: str) -> bool:
    """True if `user_id` already recorded this very request under `key`."""
    recorded = await session.scalar(
        select(OrderPayment.request_hash).where(
            OrderPayment.recorded_by_id == user_id, OrderPayment.idempotency_key == key
        )
    )
    if recorded is None:
        return False
    if recorded != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different payment or refund.",
            code="idempotency_key_reused",
        )
    return True


async def record_once(session: AsyncSession, entry: OrderPayment) -> bool:
    """Insert `entry`; False if a concurrent request with its key was recorded first."""
    if entry.idempotency_key is None:
        session.add(entry)
        await session.flush()
        return True
    try:
        # In a savepoint, so that losing the race discards only this row.
        async with session.begin_nested():
            session.add(entry)
            await session.flush()
    except IntegrityError:
        assert entry.recorded_by_id is not None and entry.request_hash is not None
        if await already_recorded(
            session, entry.recorded_by_id, entry.idempotency_key, entry.request_hash
        ):
            return False
        raise
    return True
