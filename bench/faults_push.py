"""Push delivery when a push service fails: one blackholed, one asking for a pause.

    python -m bench.faults_push [--seconds 30] [--rate 10] [--pause 10]

Loopback push services (tests/pushservice.py: VAPID checked, payloads decrypted), one
delivery worker with the default settings (64 pushes in flight, 15 s send timeout) on
a fresh SQLite database. Rows are written and signalled as the outbox writes them (so
the worker claims them by id at once), `--rate` per second to each service:

1. blackhole: for `--seconds`, one service accepts every push and never answers; the
   delay of each push to the healthy one, from its row's commit to its arrival.
2. Retry-After: a service answers its first push "503, Retry-After: --pause" while
   pushes for its other subscriptions keep coming: requests it receives in the pause.
3. After each run the failing service recovers (a blackholed request is never recorded
   as received), and every row must end delivered, each message received once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from server.accounts.models import User
from server.core.config import Settings
from server.core.db import Database, make_database, utcnow
from server.core.migrate import upgrade
from server.core.signals import Signals
from server.notifications.models import Notification
from server.push.keys import KeyStore
from server.push.models import PushDelivery, PushSubscription
from server.push.outbox import DELIVERIES_QUEUED
from server.push.worker import DeliveryWorker
from tests.pushservice import PushService

SETTLE_SECONDS = 120.0  # how long a recovered service's rows may take to be delivered
Row = tuple[str, str, str]


class Feed:
    """Writes outbox rows for subscriptions on loopback services and signals them."""

    def __init__(self, database: Database, signals: Signals, kid: str) -> None:
        self.database, self.signals, self.kid = database, signals, kid
        self.seq = 0
        self.committed: dict[int, float] = {}  # seq → monotonic time of its commit
        self._users = 0

    async def subscribe(self, service: PushService, devices: int) -> list[int]:
        """A vendor with `devices` browsers on `service`; returns [notification id, *subs]."""
        self._users += 1
        browsers = [service.subscribe() for _ in range(devices)]
        now = utcnow()
        async with self.database.writer() as session:
            user = await session.scalar(
                insert(User).returning(User.id),
                [{"email": f"f{self._users}@bench.invalid", "name": "V", "role": "vendor",
                  "password_hash": "!", "created_at": now}],
            )  # fmt: skip
            subs = await session.scalars(
                insert(PushSubscription).returning(
                    PushSubscription.id, sort_by_parameter_order=True
                ),
                [{"user_id": user, "endpoint": b.endpoint, "p256dh": b.p256dh,
                  "auth": b.to_json()["keys"]["auth"], "vapid_key_id": self.kid,
                  "muted": False, "created_at": now, "updated_at": now} for b in browsers],
            )  # fmt: skip
            subscription_ids = list(subs)
            note = await session.scalar(
                insert(Notification).returning(Notification.id),
                [{"user_id": user, "type": "system", "event": "system.notice", "title": "t",
                  "body": "b", "url": "/", "data": {}, "created_at": now}],
            )  # fmt: skip
            await session.commit()
        assert note is not None
        return [note, *subscription_ids]

    async def push(self, targets: list[tuple[int, int]]) -> None:
        """One queued delivery per (notification, subscription), committed and signalled."""
        now = utcnow()
        rows, seqs = [], []
        for notification_id, subscription_id in targets:
            self.seq += 1
            seqs.append(self.seq)
            rows.append(
                {"notification_id": notification_id, "subscription_id": subscription_id,
                 "status": "queued", "payload": json.dumps({"seq": self.seq}), "ttl": 3600,
                 "urgency": "high", "topic": None, "attempts": 0, "created_at": now,
                 "due_at": now, "expires_at": now.replace(year=now.year + 1)}
            )  # fmt: skip
        async with self.database.writer() as session:
            ids = list(await session.scalars(insert(PushDelivery).returning(PushDelivery.id), rows))
            await session.commit()
        at = time.monotonic()
        for seq in seqs:
            self.committed[seq] = at
        self.signals[DELIVERIES_QUEUED].send(ids)


async def _feed(feed: Feed, lanes: list[list[int]], rate: float, seconds: float) -> None:
    """`rate` pushes a second to each lane (notification, subscriptions round robin)."""
    start = time.monotonic()
    for tick in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + tick / rate - time.monotonic()))
        targets = [(lane[0], lane[1 + tick % (len(lane) - 1)]) for lane in lanes]
        await feed.push(targets)


async def _settled(database: Database) -> dict[str, int]:
    async with database.reader() as session:
        rows = await session.execute(
            select(PushDelivery.status, func.count()).group_by(PushDelivery.status)
        )
        return {status: int(n) for status, n in rows}


async def _wait_settled(database: Database, total: int) -> dict[str, int]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        found = await _settled(database)
        if found.get("delivered", 0) >= total:
            break
        await asyncio.sleep(0.25)
    return found


def _lost_and_duplicated(services: list[PushService], rows: dict[str, int], total: int) -> str:
    """Messages never received / received more than once, and rows not marked delivered
    (within SETTLE_SECONDS of the service's recovery)."""
    seen = Counter(r.json["seq"] for service in services for r in service.received)
    lost, duplicated = total - len(seen), sum(n - 1 for n in seen.values())
    return f"{lost}/{duplicated} ({total - rows.get('delivered', 0)} rows not delivered)"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _blackhole(settings: Settings, seconds: float, rate: float) -> list[Row]:
    database, signals = make_database(settings), Signals()
    feed = Feed(database, signals, KeyStore.load_or_create(settings).current.kid)
    worker = DeliveryWorker(database, settings, KeyStore.load_or_create(settings), signals=signals)
    async with PushService() as hung, PushService() as healthy:
        hung.hang = True
        lanes = [await feed.subscribe(hung, 50), await feed.subscribe(healthy, 50)]
        await worker.start()
        try:
            await _feed(feed, lanes, rate, seconds)
            await healthy.wait_for(int(rate * seconds), timeout=SETTLE_SECONDS)
            delays = [r.at - feed.committed[r.json["seq"]] for r in healthy.received]
            hung.hang = False  # it recovers: the next probe (or retry) is answered
            total = 2 * int(rate * seconds)
            rows = await _wait_settled(database, total)
        finally:
            await worker.stop()
            await database.dispose()
        counts = _lost_and_duplicated([hung, healthy], rows, total)
    what = f"delay of pushes to a healthy service while another is blackholed ({seconds:g} s)"
    figure = (
        f"p50 {statistics.median(delays) * 1000:.0f} ms, p99 {percentile(delays, 99) * 1000:.0f}"
        f" ms, max {max(delays) * 1000:.0f} ms"
    )
    return [
        (what, figure, "p99 ≤ 1 s"),
        ("lost / duplicated pushes, blackhole run", counts, "0/0"),
    ]


async def _retry_after(settings: Settings, pause: int, rate: float) -> list[Row]:
    database, signals = make_database(settings), Signals()
    feed = Feed(database, signals, KeyStore.load_or_create(settings).current.kid)
    worker = DeliveryWorker(database, settings, KeyStore.load_or_create(settings), signals=signals)
    async with PushService() as paused:
        lane = await feed.subscribe(paused, 50)
        first = next(iter(paused.devices.values()))  # the first push's subscription
        paused.answer(first, 503, retry_after=pause)
        await worker.start()
        try:
            seconds = pause + 5
            await _feed(feed, [lane], rate, seconds)
            total = int(rate * seconds)
            rows = await _wait_settled(database, total)
        finally:
            await worker.stop()
            await database.dispose()
        asked = paused.arrivals[0][1]
        during = sum(1 for _, at in paused.arrivals[1:] if at < asked + pause)
        counts = _lost_and_duplicated([paused], rows, total)
    return [
        (
            f'requests sent to a service in its "503, Retry-After: {pause}" pause',
            f"{during}",
            "≤ 1 (a probe) per pause",
        ),
        ("lost / duplicated pushes, Retry-After run", counts, "0/0"),
    ]


async def _settings() -> Settings:
    tmp = Path(tempfile.mkdtemp(prefix="faults-push-"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp / 'faults.db'}",
        data_dir=tmp / "data",
        keys_dir=tmp / "keys",
        secret_key="faults-secret-key-" + "x" * 32,
        push_allowed_hosts=["127.0.0.1"],
        run_worker=False,
        redis_url=None,
        log_level="WARNING",
        push_encrypt_processes=0,
    )
    await asyncio.to_thread(upgrade, settings)  # Alembic runs an event loop of its own
    return settings


async def measure(seconds: float = 30.0, rate: float = 10.0, pause: int = 10) -> list[Row]:
    """(what, measured, goal) for a blackholed push service and a pausing one."""
    rows = await _blackhole(await _settings(), seconds, rate)
    rows += await _retry_after(await _settings(), pause, rate)
    return rows


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="blackhole run length")
    parser.add_argument("--rate", type=float, default=10.0, help="pushes/s to each service")
    parser.add_argument("--pause", type=int, default=10, help="Retry-After seconds")
    return parser.parse_args()


def main(args: Any) -> None:
    results = asyncio.run(measure(args.seconds, args.rate, args.pause))
    width = max(len(what) for what, _, _ in results)
    for what, figure, goal in results:
        print(f"{what:<{width}}  {figure}  (goal {goal})")


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    main(parse())
