"""Several processes, as a marketplace runs the service: two API processes and two
delivery workers on one PostgreSQL and one Redis, started with the documented commands.

What must hold when the work is spread out: every device gets a broadcast exactly once,
both API processes agree on a vendor's badge whichever of them took the write, and a
worker killed mid-broadcast loses nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from server.core.db import make_database
from server.push.keys import KeyStore
from server.push.models import PushDelivery
from tests.cluster import Cluster, Seeded, seed_subscriptions, seed_users
from tests.conftest import order_body
from tests.pushservice import BrowserSubscription, PushService

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

VENDORS = 1000
DEVICES_PER_VENDOR = 2  # 2,000 devices


@pytest.fixture
async def cluster(pg_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    cluster = Cluster(
        pg_url,
        redis_url,
        tmp_path,
        extra_env={
            # Its own channel: test runs sharing one Redis never see each other's events.
            "REDIS_CHANNEL": f"vendorbell:test:{uuid.uuid4().hex}",
            # A killed worker's rows come back to the others after this long.
            "PUSH_LEASE_SECONDS": "3",
            "PUSH_POLL_SECONDS": "0.5",
        },
    )
    await asyncio.to_thread(cluster.migrate)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.close)


async def seed(
    cluster: Cluster, service: PushService
) -> tuple[Seeded, Seeded, list[BrowserSubscription]]:
    """1,000 vendors with two devices each on the test push service, and one admin."""
    settings = cluster.settings
    kid = KeyStore.load_or_create(settings).current.kid
    devices = [service.subscribe() for _ in range(VENDORS * DEVICES_PER_VENDOR)]
    database = make_database(settings)
    try:
        async with database.writer() as session:
            vendors = await seed_users(session, VENDORS, role="vendor")
            admins = await seed_users(session, 1, role="admin", tag="admin")
            rows = [
                (vendors.user_ids[n // DEVICES_PER_VENDOR], d.endpoint, d.p256dh, _auth(d))
                for n, d in enumerate(devices)
            ]
            await seed_subscriptions(session, rows, kid)
            await session.commit()
    finally:
        await database.dispose()
    return vendors, admins, devices


def _auth(device: BrowserSubscription) -> str:
    auth: str = device.to_json()["keys"]["auth"]
    return auth


async def broadcast(url: str, admin: Seeded) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        response = await client.post(
            "/api/admin/broadcasts",
            json={
                "title": "Maintenance tonight",
                "body": "Read-only 02:00-02:30",
                "audience": "vendors",
            },
            headers=admin.headers(0),
        )
    assert response.status_code == 202, response.text
    broadcast_id: str = response.json()["id"]
    return broadcast_id


async def delivery_statuses(cluster: Cluster) -> dict[str, int]:
    database = make_database(cluster.settings)
    try:
        async with database.reader() as session:
            rows = await session.execute(
                select(PushDelivery.status, func.count()).group_by(PushDelivery.status)
            )
            return {status: n for status, n in rows}
    finally:
        await database.dispose()


async def test_a_broadcast_reaches_each_device_once_and_both_api_processes_agree(
    cluster: Cluster,
) -> None:
    async with PushService() as service:
        vendors, admins, devices = await seed(cluster, service)
        a = await asyncio.to_thread(cluster.start_api, "api-a")
        b = await asyncio.to_thread(cluster.start_api, "api-b")
        cluster.start_worker("worker-1")
        cluster.start_worker("worker-2")

        broadcast_id = await broadcast(a, admins)
        await service.wait_for(len(devices), timeout=90)
        await asyncio.sleep(1.0)  # a second sending of any row would arrive by now
        per_device = Counter(r.token for r in service.received)
        assert len(per_device) == len(devices)
        assert set(per_device.values()) == {1}, per_device.most_common(3)

        async with httpx.AsyncClient(base_url=b, timeout=10) as client:
            progress = (
                await client.get(f"/api/admin/broadcasts/{broadcast_id}", headers=admins.headers(0))
            ).json()
        assert progress["status"] == "done" and progress["recipients"] == VENDORS
        assert progress["push"]["delivered"] == len(devices)

        # The badge: both processes agree, whichever one took the write.
        async with httpx.AsyncClient(timeout=10) as client:

            async def unread(url: str) -> int:
                response = await client.get(
                    f"{url}/api/notifications/count", headers=vendors.headers(0)
                )
                assert response.status_code == 200, response.text
                count: int = response.json()["unread"]
                return count

            assert (await unread(a), await unread(b)) == (1, 1)
            marked = await client.post(
                f"{b}/api/notifications/mark-all-read", headers=vendors.headers(0)
            )
            assert marked.status_code == 200, marked.text
            assert (await unread(a), await unread(b)) == (0, 0)

            database = make_database(cluster.settings)
            async with database.writer() as session:
                customers = await seed_users(session, 1, role="customer", tag="c")
                await session.commit()
            await database.dispose()
            order = await client.post(
                f"{a}/api/orders",
                json=order_body(str(vendors.user_ids[0])),
                headers=customers.headers(0),
            )
            assert order.status_code == 201, order.text
            assert (await unread(b), await unread(a)) == (1, 1)


async def test_a_worker_killed_mid_broadcast_loses_nothing(cluster: Cluster) -> None:
    cluster.extra_env["WORKER_CONCURRENCY"] = "8"
    async with PushService() as service:
        # Answers take as long as a real push service's, so the kill lands mid-way.
        service.delay = 0.05
        _, admins, devices = await seed(cluster, service)
        a = await asyncio.to_thread(cluster.start_api, "api-a")
        cluster.start_worker("worker-1")
        cluster.start_worker("worker-2")

        await broadcast(a, admins)
        await service.wait_for(len(devices) // 4, timeout=90)
        assert cluster.kill("worker-1") != 0  # SIGKILL: no chance to release anything
        await service.wait_for(len(devices), timeout=120)
        for _ in range(200):
            statuses = await delivery_statuses(cluster)
            if statuses.get("queued", 0) == 0:
                break
            await asyncio.sleep(0.2)
        assert statuses == {"delivered": len(devices)}
        per_device = Counter(r.token for r in service.received)
        assert len(per_device) == len(devices)  # nobody missed it
        # What the killed worker had sent but not yet recorded goes out again (at least
        # once): its 8 pushes in flight and the answers of one 50 ms recording window.
        twice = sum(n - 1 for n in per_device.values())
        assert twice <= 32, twice
