"""With Redis, a commit in an API process wakes the workers of other processes at once.

The worker here polls only every 60 s, so an order's push that arrives within the
test's few seconds was taken because the API process's signal reached it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.background import Runtime
from server.core.config import Settings
from tests.conftest import Accounts, make_settings, place_order
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
    )


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime(settings, "worker")
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: Any = create_app(settings.model_copy(update={"role": "api"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
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
