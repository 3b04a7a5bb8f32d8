"""The outbox only writes rows and, after commit, signals them; the worker decides."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from server.app import create_app
from server.push.models import PushDelivery
from tests.conftest import Accounts, make_settings, place_order
from tests.push.test_end_to_end import settled_notification, subscribe
from tests.pushservice import PushService


async def test_an_order_wakes_the_worker_of_its_process(
    tmp_path: Path, database_url: str, push_service: PushService
) -> None:
    # The worker polls once an hour: only the outbox's signal can make it claim in time.
    settings = make_settings(tmp_path, database_url, run_worker=True, push_poll_seconds=3600)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            accounts = Accounts(client)
            vendor, customer = await accounts.vendor(), await accounts.customer()
            phone = push_service.subscribe()
            await subscribe(client, vendor.headers, phone.to_json(label="phone"))
            order = await place_order(client, customer, vendor)
            [message] = await push_service.wait_for(1, timeout=10)
            item = await settled_notification(client, vendor.headers)
    assert message.json["notification"]["navigate"] == f"http://testserver/orders/{order['id']}"
    assert item["push"] == {"queued": 0, "delivered": 1, "failed": 0, "expired": 0}


async def test_the_api_role_writes_unleased_rows_and_sends_nothing(
    tmp_path: Path, database_url: str, push_service: PushService
) -> None:
    app = create_app(make_settings(tmp_path, database_url, role="api"))
    async with app.router.lifespan_context(app):
        assert app.state.runtime.running == ["token-activity"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            accounts = Accounts(client)
            vendor, customer = await accounts.vendor(), await accounts.customer()
            await subscribe(client, vendor.headers, push_service.subscribe().to_json())
            await place_order(client, customer, vendor)
        async with app.state.db.reader() as session:
            [row] = (await session.scalars(select(PushDelivery))).all()
    assert (row.status, row.leased_by, row.lease_until, row.attempts) == ("queued", None, None, 0)
    assert push_service.received == []
