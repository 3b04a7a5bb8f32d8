"""The console's push services and queues (admin only), and the retention loop.

Push service answers come from a real delivery worker posting to loopback push
services; queue rows from the real API where it makes them (an order's push), moved
back in time where the test needs "ten minutes ago".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, update

from server.console import retention
from server.core.config import Settings
from server.core.db import Database, make_database, utcnow
from server.integrations.models import Integration
from server.integrations.webhooks.models import WebhookDelivery
from server.mail.models import OutgoingEmail
from server.notifications.models import Notification
from server.ops.heartbeat import Heartbeat
from server.push.keys import KeyStore
from server.push.models import PushDelivery, PushServiceStat
from server.push.worker import DeliveryWorker
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Accounts, make_settings, place_order
from tests.push.rows import queue_deliveries, statuses
from tests.push.test_push_services import wait_until
from tests.pushservice import PushService


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # A hung push service's POST ends after half a second: a timeout, counted as one.
    return make_settings(tmp_path, database_url, push_send_timeout=0.5, drain_seconds=0.2)


@asynccontextmanager
async def delivery_worker(settings: Settings) -> AsyncIterator[Database]:
    """The real worker, alive by its heartbeat (its breakers count only while it is)."""
    database = make_database(settings)
    heartbeat = Heartbeat(database, "worker", ["delivery"], settings.heartbeat_seconds)
    await heartbeat.beat()
    worker = DeliveryWorker(
        database, settings, KeyStore.load_or_create(settings), poll_seconds=0.05
    )
    await worker.start()
    try:
        yield database
    finally:
        await worker.stop()
        await database.dispose()


def by_service(body: dict[str, Any], service: PushService) -> dict[str, Any]:
    name = service.origin.split("://", 1)[1]
    found: dict[str, Any] = next(s for s in body["services"] if s["service"] == name)
    return found


async def get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_push_services_counts_each_hosts_answers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    kid = KeyStore.load_or_create(settings).current.kid
    async with (
        PushService() as busy,
        PushService() as picky,
        PushService() as paused,
        PushService() as hung,
    ):
        busy.delay = 0.05  # every answer takes at least 50 ms
        await queue_deliveries(settings, busy, kid, total=4, devices=4, email="a@x.test")
        first, second = list(busy.devices.values())[:2]
        busy.answer(first, 429, retry_after=0)  # then 201
        busy.answer(second, 503, retry_after=0)  # then 201
        await queue_deliveries(settings, picky, kid, total=2, devices=2, email="b@x.test")
        picky.answer(next(iter(picky.devices.values())), 410)  # gone: not delivered
        await queue_deliveries(settings, paused, kid, total=1, devices=1, email="c@x.test")
        paused.answer(next(iter(paused.devices.values())), 429, retry_after=600)
        hung.hang = True
        await queue_deliveries(settings, hung, kid, total=1, devices=1, email="d@x.test")

        async with delivery_worker(settings) as database:
            await busy.wait_for(4)

            async def settled() -> bool:
                async with database.reader() as session:
                    tried = await session.scalar(select(func.sum(PushServiceStat.sent)))
                return (await statuses(settings)).get("delivered") == 5 and (tried or 0) >= 10

            await wait_until(settled)
            body = await get(client, "/api/admin/push-services", admin.headers)
            hour = by_service(body, busy)["last_hour"]
            assert hour["sent"] == 6 and hour["delivered"] == 4
            assert hour["delivered_percent"] == 66.7
            assert (hour["rate_limited"], hour["server_errors"], hour["timeouts"]) == (1, 1, 0)
            assert hour["p50_ms"] >= 50 and hour["p99_ms"] >= hour["p50_ms"]
            assert by_service(body, busy)["circuit"] != "open"

            picky_hour = by_service(body, picky)["last_hour"]
            assert (picky_hour["sent"], picky_hour["delivered"]) == (2, 1)
            assert picky_hour["delivered_percent"] == 50.0

            # Asked to wait ten minutes: its breaker is open until then.
            stopped = by_service(body, paused)
            assert stopped["circuit"] == "open"
            assert stopped["last_hour"]["rate_limited"] == 1
            next_try = stopped["next_try_at"]
            assert next_try is not None and next_try > (utcnow() + timedelta(minutes=9)).isoformat()

            assert by_service(body, hung)["last_hour"]["timeouts"] >= 1
            assert body["retention_days"] == 30 and body["oldest_kept_at"] is not None

            # Answers from two hours ago count for the day, not the hour.
            async with database.writer() as session:
                name = picky.origin.split("://", 1)[1]
                await session.execute(
                    update(PushServiceStat)
                    .where(PushServiceStat.service == name)
                    .values(period=utcnow() - timedelta(hours=2))
                )
                await session.commit()
            body = await get(client, "/api/admin/push-services", admin.headers)
            assert by_service(body, picky)["last_hour"]["sent"] == 0
            assert by_service(body, picky)["last_hour"]["delivered_percent"] is None
            assert by_service(body, picky)["last_day"]["sent"] == 2

    # The worker stopped: its breakers went with it.
    body = await get(client, "/api/admin/push-services", admin.headers)
    assert by_service(body, paused)["circuit"] == "closed"
    assert by_service(body, paused)["next_try_at"] is None


async def test_queues_flag_a_stuck_queue_and_list_the_workers(
    client: httpx.AsyncClient, accounts: Accounts, settings: Settings, app: Any
) -> None:
    admin = await admin_account(client, settings)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    async with PushService() as service:
        for _ in range(2):
            device = service.subscribe()
            answer = await client.post(
                "/api/push/subscriptions", json=device.to_json(), headers=vendor.headers
            )
            assert answer.status_code in (200, 201), answer.text
        await place_order(client, customer, vendor)  # one push per device, queued
    database: Database = app.state.db
    now = utcnow()
    async with database.writer() as session:
        ids = sorted(await session.scalars(select(PushDelivery.id)))
        assert len(ids) == 2
        # No worker runs here: one push has waited ten minutes, the other is due later.
        await session.execute(
            update(PushDelivery).where(PushDelivery.id == ids[0])
            .values(due_at=now - timedelta(minutes=10))
        )  # fmt: skip
        await session.execute(
            update(PushDelivery).where(PushDelivery.id == ids[1])
            .values(due_at=now + timedelta(minutes=5))
        )  # fmt: skip
        await session.commit()
    heartbeat = Heartbeat(database, "worker", ["delivery", "mail"], settings.heartbeat_seconds)
    await heartbeat.beat()

    body = await get(client, "/api/admin/queues", admin.headers)
    push = next(q for q in body["queues"] if q["name"] == "push")
    assert (push["pending"], push["delayed"], push["in_flight"]) == (1, 1, 0)
    assert push["stuck"] is True and push["oldest_pending_seconds"] >= 600
    for name in ("email", "webhooks"):
        quiet = next(q for q in body["queues"] if q["name"] == name)
        assert (quiet["pending"], quiet["stuck"], quiet["oldest_pending_seconds"]) == (
            0,
            False,
            None,
        )
    assert body["stuck_after_seconds"] == 300 and body["retention_days"] == 30
    (worker,) = body["workers"]
    assert worker["name"] == heartbeat.name and worker["alive"] is True
    assert worker["role"] == "worker" and worker["loops"] == ["delivery", "mail"]

    # A push due for a minute only is pending, not stuck.
    async with database.writer() as session:
        await session.execute(
            update(PushDelivery).where(PushDelivery.id == ids[0])
            .values(due_at=now - timedelta(minutes=1))
        )  # fmt: skip
        # The other one claimed by a worker (a claim moves due_at to the lease's end).
        lease = now + timedelta(seconds=60)
        await session.execute(
            update(PushDelivery).where(PushDelivery.id == ids[1])
            .values(due_at=lease, lease_until=lease, leased_by="elsewhere:1:1")
        )  # fmt: skip
        await session.commit()
    push = (await get(client, "/api/admin/queues", admin.headers))["queues"][0]
    assert push["name"] == "push" and push["stuck"] is False
    assert (push["pending"], push["delayed"], push["in_flight"]) == (1, 0, 1)


async def test_only_admins_see_the_console(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    for path in ("/api/admin/push-services", "/api/admin/queues"):
        refused = await client.get(path, headers=vendor.headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "admin_only"
        assert (await client.get(path)).status_code == 401


async def _rows_for_retention(settings: Settings, database: Database) -> None:
    """Old and new rows of each outbox, finished and queued."""
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as service:
        await queue_deliveries(settings, service, kid, total=8, devices=1)
    old, new = utcnow() - timedelta(days=31), utcnow() - timedelta(days=29)
    plan = [  # by id order: status, created
        ("delivered", old), ("failed", old), ("expired", old), ("delivered", old),
        ("delivered", old), ("queued", old), ("delivered", new), ("queued", new),
    ]  # fmt: skip
    async with database.writer() as session:
        ids = sorted(await session.scalars(select(PushDelivery.id)))
        for delivery_id, (status, created) in zip(ids, plan, strict=True):
            await session.execute(
                update(PushDelivery).where(PushDelivery.id == delivery_id)
                .values(status=status, created_at=created)
            )  # fmt: skip
        user_id = await session.scalar(select(Notification.user_id))
        emails = [("sent", old), ("failed", old), ("queued", old), ("sent", new)]
        await session.execute(
            insert(OutgoingEmail),
            [{"user_id": user_id, "reason": f"r{n}", "recipient": "v@example.com", "subject": "s",
              "text_body": "t", "html_body": "h", "message_id": f"<{n}@x>", "status": status,
              "created_at": created, "due_at": created} for n, (status, created) in
             enumerate(emails)],
        )  # fmt: skip
        await session.execute(
            insert(Integration).values(
                id="shop", name="Shop", allowed_origins=[], link_base="https://shop.test",
                webhook_events=[],
            )
        )  # fmt: skip
        hooks = [("delivered", old), ("failed", old), ("queued", old), ("delivered", new)]
        await session.execute(
            insert(WebhookDelivery),
            [{"event_id": f"evt_{n}", "integration_id": "shop", "type": "order.created",
              "body": json.dumps({}), "status": status, "created_at": created,
              "due_at": created, "give_up_at": created + timedelta(days=1)}
             for n, (status, created) in enumerate(hooks)],
        )  # fmt: skip
        await session.execute(
            insert(PushServiceStat),
            [{"service": "push.test", "period": at, "bin": 26, "sent": 1, "delivered": 1,
              "rate_limited": 0, "server_errors": 0, "timeouts": 0} for at in (old, new)],
        )  # fmt: skip
        await session.commit()


async def test_retention_deletes_only_old_finished_rows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)  # several transactions per table
    database = make_database(settings)
    try:
        await _rows_for_retention(settings, database)
        deleted = await retention.prune(database, settings)
        assert deleted == {
            "push": 5, "email": 2, "webhooks": 2, "push_service_stats": 1, "push_circuits": 0,
        }  # fmt: skip
        async with database.reader() as session:
            push = sorted(
                (s, c > utcnow() - timedelta(days=30))
                for s, c in await session.execute(
                    select(PushDelivery.status, PushDelivery.created_at)
                )
            )
            email = sorted(await session.scalars(select(OutgoingEmail.status)))
            hooks = sorted(await session.scalars(select(WebhookDelivery.status)))
            attempts = await session.scalar(select(func.count()).select_from(PushServiceStat))
        # The old queued rows stay: still work to do, however old.
        assert push == [("delivered", True), ("queued", False), ("queued", True)]
        assert email == ["queued", "sent"] and hooks == ["delivered", "queued"]
        assert attempts == 1
        assert await retention.prune(database, settings) == dict.fromkeys(
            ("push", "email", "webhooks", "push_service_stats", "push_circuits"), 0
        )
    finally:
        await database.dispose()
