"""Deliveries written while the app's worker runs go to it directly: no claim needed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.push import worker as worker_module
from server.push.models import PushDelivery
from server.push.sender import Job
from tests.conftest import Accounts, place_order
from tests.push.test_end_to_end import settled_notification, subscribe
from tests.pushservice import PushService


async def test_an_order_is_pushed_without_waiting_for_a_claim(
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claims: list[int] = []

    async def no_claims(self: worker_module.DeliveryWorker, limit: int) -> list[Job]:
        claims.append(limit)
        return []  # as if every claim lost the race: only the hand-off can deliver

    monkeypatch.setattr(worker_module.DeliveryWorker, "claim", no_claims)
    vendor = await worker_accounts.vendor()
    customer = await worker_accounts.customer()
    phone = push_service.subscribe()
    await subscribe(worker_client, vendor.headers, phone.to_json(label="phone"))

    order = await place_order(worker_client, customer, vendor)

    [message] = await push_service.wait_for(1, timeout=5)
    assert message.json["notification"]["navigate"] == f"http://testserver/orders/{order['id']}"
    item = await settled_notification(worker_client, vendor.headers)
    assert item["push"] == {"queued": 0, "delivered": 1, "failed": 0, "expired": 0}


async def test_rows_handed_to_a_worker_are_leased_like_claimed_ones(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    """Written leased, so another worker cannot send them twice, and a crash before the
    send only delays them until the lease ends."""
    vendor = await worker_accounts.vendor()
    customer = await worker_accounts.customer()
    phone = push_service.subscribe()
    await subscribe(worker_client, vendor.headers, phone.to_json())
    push_service.gate = asyncio.Event()  # the push service hangs: the send stays in flight

    await place_order(worker_client, customer, vendor)

    database = worker_app.state.db
    async with database.reader() as session:
        [row] = (await session.scalars(select(PushDelivery))).all()
    assert row.status == "queued" and row.leased_by is not None and row.attempts == 1
    assert row.lease_until is not None and row.due_at == row.lease_until > row.created_at
    push_service.gate.set()
    await push_service.wait_for(1, timeout=5)
