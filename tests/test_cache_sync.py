"""Caches in several processes: a write through one is what the next read in any sees.

Two apps in this test process, on one PostgreSQL and one Redis, each with its own
runtime and caches, stand for two API processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.accounts.tokens import TOKENS
from server.app import create_app
from server.background import CACHES
from server.cluster.cache_sync import RedisCacheSync
from server.core.cache import Caches, GenerationalCache
from server.notifications.counts import COUNTS
from server.notifications.preferences.service import PREFERENCES
from tests.conftest import Account, Accounts, make_settings, place_order

# One process: what the cache may store and serve, and when.


def test_a_shared_cache_serves_nothing_until_its_subscription_is_current() -> None:
    caches = Caches(CACHES, shared=True)
    caches[COUNTS].put(1, "stale", caches[COUNTS].generation(1))  # type: ignore[arg-type]
    assert caches[COUNTS].get(1) is None  # closed: nothing stored

    caches.open()
    caches[COUNTS].put(1, "fresh", caches[COUNTS].generation(1))  # type: ignore[arg-type]
    assert caches[COUNTS].get(1) is None  # stored, but no PONG has vouched for it yet

    caches.renew(time.monotonic() + 60)
    assert caches[COUNTS].get(1) == "fresh"

    caches.renew(time.monotonic() - 1)  # an older PONG never shortens the lease
    assert caches[COUNTS].get(1) == "fresh"


def test_closing_empties_the_caches_and_refuses_reads_that_began_before() -> None:
    caches = Caches(CACHES, shared=True)
    caches.open()
    caches.renew(time.monotonic() + 60)
    caches[TOKENS].put("digest", (1, "a@b.c", "A", "vendor"), caches[TOKENS].generation("digest"))
    before = caches[TOKENS].generation("other")

    caches.close()
    assert caches[TOKENS].get("digest") is None
    caches.open()
    caches.renew(time.monotonic() + 60)
    caches[TOKENS].put("other", (2, "b@b.c", "B", "vendor"), before)
    assert caches[TOKENS].get("other") is None  # read before the gap: may have missed a write


def test_an_expired_lease_bypasses_the_cache_without_forgetting_it() -> None:
    caches = Caches(CACHES, shared=True)
    cache: GenerationalCache[int] = GenerationalCache("counts", caches.state)
    caches.open()
    caches.renew(time.monotonic() + 0.05)
    cache.put(7, 3, cache.generation(7))
    assert cache.get(7) == 3
    time.sleep(0.06)
    assert cache.get(7) is None
    caches.renew(time.monotonic() + 60)  # a PONG: every invalidation before it is applied
    assert cache.get(7) == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_without_redis_the_caches_stay_closed_and_a_write_does_not_hang(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caches = Caches(CACHES, shared=True)
    sync = RedisCacheSync(
        f"redis://127.0.0.1:{_closed_port()}/0", "vendorbell:test", caches, lease_seconds=0.3
    )
    await sync.start()
    try:
        await asyncio.sleep(0.1)
        assert not caches.state.storing and not caches.state.serving(time.monotonic())
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="vendorbell.cache"):
            await caches.invalidate_committed([(caches[COUNTS], 1)])
        assert time.monotonic() - started < 1.0  # one lease of retries, then the background
        assert "cache.sync.publish_failed" in caplog.messages
    finally:
        await sync.close()


# Two processes on PostgreSQL and Redis.


async def _serving(app: Any) -> None:
    caches: Caches = app.state.runtime.caches
    async with asyncio.timeout(5):
        while not caches.state.serving(time.monotonic()):
            await asyncio.sleep(0.01)


@pytest.fixture
async def two_processes(
    tmp_path: Path, pg_database: str, redis_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of apps A and B: one database, one Redis channel, their own caches."""
    channel = f"vendorbell:test:{uuid.uuid4().hex}"
    apps = [
        create_app(make_settings(tmp_path, pg_database, redis_url=redis_url, redis_channel=channel))
        for _ in range(2)
    ]
    a, b = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        for app in apps
    )
    async with (
        apps[0].router.lifespan_context(apps[0]),
        apps[1].router.lifespan_context(apps[1]),
        a,
        b,
    ):
        for app in apps:
            await _serving(app)
        yield a, b


def app_of(client: httpx.AsyncClient) -> Any:
    return client._transport.app  # type: ignore[attr-defined]


def caches_of(client: httpx.AsyncClient) -> Caches:
    caches: Caches = app_of(client).state.runtime.caches
    return caches


async def unread(client: httpx.AsyncClient, user: Account) -> int:
    response = await client.get("/api/notifications/count", headers=user.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["unread"])


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_write_through_one_process_is_read_at_once_in_another(
    two_processes: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, b = two_processes
    accounts = Accounts(a)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    vendor_id = int(vendor.id)

    assert await unread(b, vendor) == 0
    assert caches_of(b)[COUNTS].get(vendor_id) is not None  # B serves it from memory now
    await place_order(a, customer, vendor)  # a new notification, written by A
    assert await unread(b, vendor) == 1

    assert (await a.post("/api/notifications/mark-all-read", headers=vendor.headers)).is_success
    assert await unread(b, vendor) == 0

    prefs = (await b.get("/api/preferences", headers=vendor.headers)).json()
    assert caches_of(b)[PREFERENCES].get(vendor_id) is not None
    prefs["types"]["payment"] = {"push": False, "inbox": True}
    assert (await a.put("/api/preferences", json=prefs, headers=vendor.headers)).is_success
    again = (await b.get("/api/preferences", headers=vendor.headers)).json()
    assert again["types"]["payment"] == {"push": False, "inbox": True, "email": False}

    assert (await b.get("/api/me", headers=vendor.headers)).status_code == 200
    assert (await a.post("/api/auth/logout", headers=vendor.headers)).status_code == 204
    assert (await b.get("/api/me", headers=vendor.headers)).status_code == 401


async def _kill_subscription(redis_url: str, caches: Caches) -> None:
    from redis.asyncio import Redis

    sync = caches.peers
    assert isinstance(sync, RedisCacheSync)
    client = Redis.from_url(redis_url)
    try:
        for info in await client.client_list(_type="pubsub"):
            if info["name"] == sync.client_name:
                await client.client_kill_filter(_id=info["id"])
                return
        raise AssertionError("no subscription to kill")
    finally:
        await client.aclose()


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_lost_subscription_reads_the_database_until_it_is_back(
    two_processes: tuple[httpx.AsyncClient, httpx.AsyncClient], redis_url: str
) -> None:
    a, b = two_processes
    accounts = Accounts(a)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    vendor_id, caches = int(vendor.id), caches_of(b)
    assert await unread(b, vendor) == 0

    await _kill_subscription(redis_url, caches)
    async with asyncio.timeout(5):
        while caches.state.storing:
            await asyncio.sleep(0.01)
    assert caches[COUNTS].get(vendor_id) is None  # emptied
    await place_order(a, customer, vendor)  # B hears nothing of it
    assert await unread(b, vendor) == 1  # from the database
    if not caches.state.storing:
        assert caches[COUNTS].get(vendor_id) is None  # nothing stored meanwhile

    await _serving(app_of(b))  # resubscribed, and a PONG has come back
    assert await unread(b, vendor) == 1
    assert caches[COUNTS].get(vendor_id) is not None  # filling again


@pytest.mark.redis
async def test_a_subscriber_that_never_acknowledges_holds_a_write_for_one_lease(
    redis_url: str,
) -> None:
    from redis.asyncio import Redis

    channel = f"vendorbell:test:{uuid.uuid4().hex}"
    caches = Caches(CACHES, shared=True)
    sync = RedisCacheSync(redis_url, channel, caches, lease_seconds=0.3)
    silent = Redis.from_url(redis_url).pubsub()
    await silent.subscribe(f"{channel}:caches")  # receives, never answers: a stalled process
    await sync.start()
    try:
        await asyncio.wait_for(sync.subscribed.wait(), 5)
        started = time.monotonic()
        await caches.invalidate_committed([(caches[COUNTS], 1)])
        assert 0.3 <= time.monotonic() - started < 3.0  # one lease, not for ever
    finally:
        await sync.close()
        await silent.aclose()


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_write_waits_until_a_slow_process_has_dropped_the_old_value(
    two_processes: tuple[httpx.AsyncClient, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_processes
    accounts = Accounts(a)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    sync = caches_of(b).peers
    assert isinstance(sync, RedisCacheSync)
    receive, loop = sync._receive, asyncio.get_running_loop()
    # B reads its messages 50 ms late: the window between PUBLISH's reply and B's reading.
    monkeypatch.setattr(sync, "_receive", lambda *args: loop.call_later(0.05, receive, *args))

    assert await unread(b, vendor) == 0
    await place_order(a, customer, vendor)
    assert await unread(b, vendor) == 1


@pytest.mark.redis
async def test_closing_ends_even_when_a_ping_swallowed_its_cancellation(
    redis_url: str, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's asyncio.wait_for, inside each redis-py command, can swallow a
    cancellation that arrives as the write completes: the PING loop then went on for
    ever and close() never returned (a test hung CI). Here every PING swallows one."""
    from redis.asyncio.client import PubSub

    ping = PubSub.ping

    async def ping_swallowing_a_cancellation(self: PubSub, message: Any = None) -> Any:
        answer = await ping(self, message)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.2)  # the cancellation lands here, as it can in wait_for
        return answer

    monkeypatch.setattr(PubSub, "ping", ping_swallowing_a_cancellation)
    caches = Caches(CACHES, shared=True)
    sync = RedisCacheSync(redis_url, channel, caches, lease_seconds=0.3)
    await sync.start()
    await asyncio.wait_for(sync.subscribed.wait(), 5)
    await asyncio.sleep(0.1)  # inside a PING
    async with asyncio.timeout(10):
        await sync.close()
    assert not sync.subscribed.is_set()
