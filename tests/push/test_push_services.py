"""Push delivery isolated per push service: one that hangs or asks for a pause does not
delay another's pushes, its breaker opens and closes, and no push is lost or doubled."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from server.core.config import Settings
from server.core.db import make_database
from server.push.keys import KeyStore
from server.push.sender import Outcome
from server.push.services import QUICK_SECONDS, ServiceRules, ServiceState, service_rules
from server.push.worker import DeliveryWorker
from tests.conftest import make_settings
from tests.push.rows import queue_deliveries, statuses
from tests.pushservice import PushService


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def state_of(service: PushService) -> float | None:
    """The push service's breaker as /metrics shows it (None: never seen)."""
    name = service.origin.split("://", 1)[1]
    return REGISTRY.get_sample_value("vendorbell_push_service_state", {"service": name})


@asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[DeliveryWorker]:
    database = make_database(settings)
    worker = DeliveryWorker(
        database, settings, KeyStore.load_or_create(settings), poll_seconds=0.05
    )
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        await database.dispose()


def sequences(service: PushService) -> Counter[Any]:
    """How many times each queued message (its `seq`, per device) reached `service`."""
    return Counter((r.token, r.json["seq"]) for r in service.received)


async def test_pushes_to_a_healthy_service_arrive_while_another_hangs(
    tmp_path: Path, database_url: str
) -> None:
    # Long send timeouts: only isolation, not a timeout, can let the healthy pushes through.
    settings = make_settings(tmp_path, database_url, push_send_timeout=60, drain_seconds=0.2)
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as hung, PushService() as healthy:
        hung.hang = True
        await queue_deliveries(settings, hung, kid, total=100, devices=100, email="a@x.test")
        await queue_deliveries(settings, healthy, kid, total=10, devices=10, email="b@x.test")
        async with running_worker(settings):
            await healthy.wait_for(10, timeout=5)
            assert hung.received == []
            assert sum(hung.requests.values()) <= settings.push_service_concurrency


async def test_a_hung_service_does_not_hold_the_backlog_against_other_services(
    tmp_path: Path, database_url: str
) -> None:
    # A backlog of 32 rows (8 per sender): the hung service's rows alone would fill it.
    settings = make_settings(
        tmp_path, database_url, worker_concurrency=4, push_service_concurrency=2,
        push_send_timeout=60, drain_seconds=0.2,
    )  # fmt: skip
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as hung, PushService() as healthy:
        hung.hang = True
        await queue_deliveries(settings, hung, kid, total=200, devices=20, email="a@x.test")
        async with running_worker(settings):
            await wait_until(lambda: _requests(hung, 2))
            await queue_deliveries(settings, healthy, kid, total=10, devices=10, email="b@x.test")
            await healthy.wait_for(10, timeout=8)
            assert hung.received == []
        # The hung service's rows went back to the outbox, none lost or sent.
        assert await statuses(settings) == {"queued": 200, "delivered": 10}


async def _requests(service: PushService, count: int) -> bool:
    return sum(service.requests.values()) >= count


async def test_busy_services_take_turns_when_the_worker_has_fewer_slots_than_they_want(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, worker_concurrency=4, push_service_concurrency=4
    )
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as first, PushService() as second:
        first.delay = second.delay = 0.05  # answers take as long as a real service's
        await queue_deliveries(settings, first, kid, total=40, devices=4, email="a@x.test")
        await queue_deliveries(settings, second, kid, total=40, devices=4, email="b@x.test")
        async with running_worker(settings):
            await first.wait_for(40, timeout=10)
            await second.wait_for(40, timeout=10)
        # The second service's pushes did not wait for all of the first's.
        assert second.received[0].at < first.received[29].at


async def test_a_service_that_asks_for_a_pause_gets_at_most_one_probe_until_it_ends(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    kid = KeyStore.load_or_create(settings).current.kid
    pause = 2.0
    async with PushService() as service:
        await queue_deliveries(settings, service, kid, total=1, devices=1, email="a@x.test")
        [first] = service.devices.values()
        service.answer(first, 503, retry_after=int(pause))
        async with running_worker(settings):
            await wait_until(lambda: _requests(service, 1))
            asked = service.arrivals[0][1]
            # Pushes for other subscriptions on the same service, during its pause.
            await queue_deliveries(settings, service, kid, total=5, devices=5, email="b@x.test")
            await service.wait_for(6, timeout=10)
            await wait_until(lambda: _all(settings, {"delivered": 6}))
        during = [at for _, at in service.arrivals[1:] if at < asked + pause - 0.1]
        assert len(during) <= 1
        assert max(sequences(service).values()) == 1


async def _all(settings: Settings, expected: dict[str, int]) -> bool:
    return await statuses(settings) == expected


async def test_the_breaker_opens_after_repeated_5xx_and_closes_after_a_good_probe(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, push_service_concurrency=1, push_service_failures=3,
        push_service_open_seconds=1.5,
    )  # fmt: skip
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as service:
        await queue_deliveries(settings, service, kid, total=10, devices=1)
        [device] = service.devices.values()
        service.answer(device, 500, 500, 500)  # then 201 again
        async with running_worker(settings):
            await wait_until(lambda: _requests(service, 3))
            await wait_until(lambda: _state(service, 2), timeout=2)  # open
            opened = time.time()
            await asyncio.sleep(1.0)
            assert sum(service.requests.values()) == 3  # nothing while open
            await service.wait_for(1, timeout=5)  # the probe went through
            await wait_until(lambda: _state(service, 0))  # closed
            await wait_until(lambda: _all(settings, {"delivered": 10}))
        assert service.arrivals[3][1] >= opened + 1.0
        assert max(sequences(service).values()) == 1


async def _state(service: PushService, expected: int) -> bool:
    return state_of(service) == expected


async def test_each_push_is_delivered_once_after_a_hung_service_recovers(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, push_send_timeout=0.5, push_service_failures=3,
        push_service_open_seconds=2.0, drain_seconds=0.2,
    )  # fmt: skip
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as flaky, PushService() as healthy:
        flaky.hang = True
        await queue_deliveries(settings, flaky, kid, total=60, devices=20, email="a@x.test")
        await queue_deliveries(settings, healthy, kid, total=20, devices=5, email="b@x.test")
        async with running_worker(settings):
            await healthy.wait_for(20, timeout=5)
            await wait_until(lambda: _state(flaky, 2), timeout=5)  # timeouts opened it
            await asyncio.sleep(0.2)  # pushes sent before it opened may still be connecting
            hung = sum(flaky.requests.values())
            await asyncio.sleep(0.5)
            assert sum(flaky.requests.values()) - hung <= 1  # at most a probe while open
            flaky.hang = False  # it recovers: the next probe is answered
            await flaky.wait_for(60, timeout=15)
            await wait_until(lambda: _all(settings, {"delivered": 80}))
        assert len(sequences(flaky)) == 60 and max(sequences(flaky).values()) == 1
        assert len(sequences(healthy)) == 20 and max(sequences(healthy).values()) == 1


def test_per_origin_concurrency_is_the_older_spelling_of_push_service_concurrency(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert service_rules(make_settings(tmp_path, url)).concurrency == 16
    older = make_settings(tmp_path, url, per_origin_concurrency=4)
    assert service_rules(older).concurrency == 4
    both = make_settings(tmp_path, url, per_origin_concurrency=4, push_service_concurrency=8)
    assert service_rules(both).concurrency == 8


async def test_a_quickly_answering_service_gets_more_than_its_base_share_of_slots(
    tmp_path: Path, database_url: str
) -> None:
    # One push service answering in 50 ms and 300 pushes for it: held to the base share
    # (16 in flight) they would take ≥ 0.95 s; grown, they go several times as wide.
    settings = make_settings(tmp_path, database_url, worker_concurrency=64)
    rules = service_rules(settings)
    assert (rules.concurrency, rules.most) == (16, 48)
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as fast:
        fast.delay = 0.05
        await queue_deliveries(settings, fast, kid, total=300, devices=300, email="a@x.test")
        async with running_worker(settings):
            await fast.wait_for(300, timeout=20)
        assert 16 < fast.most_in_flight <= 48
        assert max(sequences(fast).values()) == 1


async def test_slots_fall_back_to_the_base_share_when_a_grown_service_stops_answering(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        push_send_timeout=60,
        drain_seconds=0.2,
        push_service_max_concurrency=40,
    )
    kid = KeyStore.load_or_create(settings).current.kid
    async with PushService() as flaky, PushService() as healthy:
        flaky.delay = 0.05
        await queue_deliveries(settings, flaky, kid, total=2000, devices=200, email="a@x.test")
        async with running_worker(settings):
            await wait_until(lambda: _most(flaky, 16), timeout=15)
            flaky.hang = True  # a service that had grown starts to blackhole
            await asyncio.sleep(1.0)  # its last answers came; then QUICK_SECONDS of silence
            held = sum(flaky.requests.values()) - len(flaky.received)
            assert 0 < held <= 40  # what it held when it went silent, never more
            await queue_deliveries(settings, healthy, kid, total=10, devices=10, email="b@x.test")
            await healthy.wait_for(10, timeout=5)  # the others still have slots
            # No new push went to it once it fell silent: its in-flight ones stay above
            # the base share, so it gets none until they time out.
            assert sum(flaky.requests.values()) - len(flaky.received) == held


async def _most(service: PushService, above: int) -> bool:
    return service.most_in_flight > above


def test_a_service_grows_one_slot_per_quick_answer_and_resets_on_a_failure() -> None:
    rules = ServiceRules(concurrency=2, failures=5, open_seconds=10.0, most=4)
    service = ServiceState("https://push.example", rules)
    now = 1000.0

    def busy_answer(status: int | None, seconds: float) -> None:
        while service.in_flight < service.slots(now):
            service.sending(now)
        service.queued = 10  # more of its pushes are waiting
        kind = "retry" if status is None or status >= 500 else "delivered"
        service.answered(Outcome(kind, status=status), now, seconds)

    busy_answer(201, 0.05)
    assert service.slots(now) == 3
    busy_answer(201, 0.05)
    busy_answer(201, 0.05)
    assert service.slots(now) == 4  # at most `most`
    busy_answer(503, 0.05)  # a failure: back to the base share at once
    assert service.slots(now) == 2
    service.queued = 0
    service.sending(now)
    service.answered(Outcome("delivered", status=201), now, 0.05)
    assert service.slots(now) == 2  # nothing waiting: no reason to grow


def test_a_grown_service_that_falls_silent_gets_no_slot_beyond_its_base_share() -> None:
    rules = ServiceRules(concurrency=2, failures=5, open_seconds=10.0, most=8)
    service = ServiceState("https://push.example", rules)
    now = 1000.0
    for _ in range(4):
        while service.in_flight < service.slots(now):
            service.sending(now)
        service.queued = 10
        service.answered(Outcome("delivered", status=201), now, 0.05)
    assert service.slots(now) == 6
    # Pushes in flight and no answer for half a second: a service that starts to hang
    # must not be handed the slots it had grown to.
    assert service.slots(now + 0.3) == 6
    assert service.slots(now + QUICK_SECONDS) == 2
