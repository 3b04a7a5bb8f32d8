"""With Redis, a commit in an API process wakes the workers of other processes at once.

The worker here polls only every 60 s (webhooks: every hour), so an order's push or a
webhook event that arrives within the test's few seconds was taken because the API
process's signal reached it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.background import Runtime
from server.core.config import Settings
from server.integrations.webhooks import worker as webhook_worker
from server.notifications.service import notify
from tests.cluster import seed_subscriptions
from tests.conftest import Accounts, make_settings, place_order
from tests.integrations.webhook_receiver import Receiver, shop
from tests.pushservice import PushService

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_url: str) -> Settings:
    return make_settings(
        tmp_path,
        pg_url,
        redis_url=redis_url,
        redis_channel=f"vendorbell:test:{uuid.uuid4().hex}",
        push_poll_seconds=60.0,
        webhook_allowed_hosts="127.0.0.1",
    )


@pytest.fixture
async def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setattr(webhook_worker, "POLL_SECONDS", 3600.0)
    runtime = Runtime(settings, "worker")
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def api_app(settings: Settings) -> AsyncIterator[Any]:
    app: Any = create_app(settings.model_copy(update={"role": "api"}))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def api_client(api_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_an_order_taken_by_an_api_process_is_pushed_by_a_worker_elsewhere_at_once(
    worker: Runtime, api_client: httpx.AsyncClient
) -> None:
    accounts = Accounts(api_client)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with PushService() as service:
        device = service.subscribe()
        subscribed = await api_client.post(
            "/api/push/subscriptions", json=device.to_json(), headers=vendor.headers
        )
        assert subscribed.status_code in (200, 201), subscribed.text
        order = await place_order(api_client, customer, vendor)
        [received] = await service.wait_for(1, timeout=10)  # well before the 60 s poll
    assert received.json["notification"]["tag"] == f"order-{order['id']}"


async def test_a_webhook_event_committed_by_an_api_process_is_sent_by_a_worker_elsewhere_at_once(
    worker: Runtime, api_app: Any, receiver: Receiver
) -> None:
    # notification.created is written by the API process and relayed; .delivered by the
    # worker's own push loop, in its process.
    events = ("notification.created", "notification.delivered")
    market = await shop(api_app, receiver.url(), events)
    async with PushService() as service:
        device = service.subscribe()
        async with api_app.state.db.writer() as session:
            row = (market.user_id, device.endpoint, device.p256dh, device.to_json()["keys"]["auth"])
            await seed_subscriptions(session, [row], api_app.state.keys.current.kid)
            await session.commit()
        async with api_app.state.units.writer() as uow:
            await notify(
                uow, market.user_id, type="order", event="order.created", title="New order #1",
                body="2 items", url="/",
            )  # fmt: skip
            await uow.commit()
        await service.wait_for(1, timeout=10)
        async with asyncio.timeout(10):  # well before the webhooks' hourly poll
            while len(receiver.received) < 2:
                await asyncio.sleep(0.05)
    sent = [json.loads(request.body)["type"] for request in receiver.received]
    assert sorted(sent) == sorted(events)
