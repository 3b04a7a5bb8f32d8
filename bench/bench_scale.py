"""Scale benchmark: the service as a marketplace runs it, on PostgreSQL + Redis.

    python -m bench.bench_scale [--devices 100000] [--only enqueue,drain,e2e,tabs,count,mixed]

Every process is started with the documented commands (`python -m server run --role api`,
`python -m server worker`) against one PostgreSQL database and one Redis. The push
service is a loopback sink in its own process that answers 201 after `--sink-delay`
(50 ms: real push services answer in tens of milliseconds, so a worker is latency-bound
and this 2-core machine can show scale-out); it counts pushes per device, so a row sent
twice shows. Sections, each printing its figures and its goal:

  enqueue  a broadcast to N subscriptions: notification + delivery rows per second,
           set-based (what the service does) vs one notify() per user (before);
  drain    queued pushes/s with 1, 2 and 4 worker processes; rows sent more than once;
  e2e      POST /api/admin/broadcasts to 100,000 devices → every push accepted;
  tabs     a broadcast to 500 users reaching every open tab (2 API processes);
  count    GET /api/notifications/count: 2 API processes with Redis vs 1 without;
  mixed    60 s of orders, inbox reads and 2,000 open tabs on 2 API processes and
           2 workers: errors, p99 per kind, and whether anything was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench import loadgen
from bench.bench_push import _reset_postgres
from bench.push_peers import browser_keys
from bench.push_vendorbell import queued_delivery
from tests.cluster import Cluster, Seeded, seed_subscriptions, seed_users

DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/vendorbell_bench_scale"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


# --- the sink: a push service answering after a delay, in its own process -----------------


class DelayedSink(asyncio.Protocol):
    """HTTP/1.1 keep-alive; each POST /push/<device> answered 201 after `delay` seconds."""

    delay = 0.05
    arrivals: dict[str, list[float]] = defaultdict(list)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = bytearray()
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            path = head.split(b" ", 2)[1].decode()
            del self.buffer[: end + 4 + length]
            self.answer(path)

    def answer(self, path: str) -> None:
        if path == "/count":  # polled: the count alone, not every arrival's time
            body = str(sum(map(len, self.arrivals.values()))).encode()
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
            self.transport.write(head + body)
        elif path == "/stats":
            body = json.dumps(
                {"arrivals": DelayedSink.arrivals, "total": sum(map(len, self.arrivals.values()))}
            ).encode()
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
            self.transport.write(head + body)
        elif path == "/reset":
            DelayedSink.arrivals = defaultdict(list)
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            DelayedSink.arrivals[path].append(time.time())
            self.loop.call_later(self.delay, self._created)

    def _created(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")


def run_sink(ready: Any, delay: float) -> None:
    import uvloop

    DelayedSink.delay = delay

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            DelayedSink, "127.0.0.1", 0, backlog=4096
        )
        ready.put(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    uvloop.run(main())


class Sink:
    def __init__(self, delay: float) -> None:
        context = multiprocessing.get_context("spawn")
        ready: Any = context.Queue()
        self.process = context.Process(target=run_sink, args=(ready, delay), daemon=True)
        self.process.start()
        self.port: int = ready.get(timeout=30)

    def endpoint(self, device: int) -> str:
        return f"http://127.0.0.1:{self.port}/push/d{device}"

    async def stats(self) -> tuple[int, dict[str, list[float]]]:
        async with httpx.AsyncClient(timeout=60) as client:
            data = (await client.get(f"http://127.0.0.1:{self.port}/stats")).json()
        return int(data["total"]), data["arrivals"]

    async def reset(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            await client.post(f"http://127.0.0.1:{self.port}/reset")

    async def wait_for(self, total: int, timeout: float) -> float:
        """Wait until `total` pushes arrived; returns the time of the last one. Polls the
        count alone: serialising and parsing every arrival four times a second cost the
        sink and this process ~20% of a core, taken from the service being measured."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=60) as client:
            while True:
                count = int((await client.get(f"http://127.0.0.1:{self.port}/count")).text)
                if count >= total:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {count}/{total} pushes arrived in {timeout:.0f} s")
                await asyncio.sleep(0.25)
        _, arrivals = await self.stats()
        return max(max(times) for times in arrivals.values())

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)


def sent_twice(arrivals: dict[str, list[float]]) -> int:
    return sum(len(times) - 1 for times in arrivals.values())


# --- the cluster ---------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    sink: Sink
    workdir: Path
    keys: list[tuple[str, str]] = field(default_factory=list)
    results: list[str] = field(default_factory=list)

    def report(self, line: str) -> None:
        print(line, flush=True)
        self.results.append(line)

    @asynccontextmanager
    async def cluster(self, **env: str) -> Any:
        """A fresh database and a cluster on it (nothing started yet)."""
        await _reset_postgres(self.args.database_url)
        cluster = Cluster(
            self.args.database_url,
            self.args.redis_url,
            Path(tempfile.mkdtemp(dir=self.workdir)),
            extra_env={"REDIS_CHANNEL": f"vendorbell:bench:{uuid.uuid4().hex}", **env},
        )
        await asyncio.to_thread(cluster.migrate)
        await self.sink.reset()
        try:
            yield cluster
        finally:
            await asyncio.to_thread(cluster.close)

    def browser_keys(self, n: int) -> list[tuple[str, str]]:
        if len(self.keys) < n:
            self.keys += browser_keys(n - len(self.keys))
        return self.keys[:n]

    async def vendors_with_devices(
        self, cluster: Cluster, n: int, *, admin: bool = True
    ) -> tuple[Seeded, Seeded | None]:
        """n vendors with one device each on the sink (real P-256 keys), and an admin."""
        from server.core.db import make_database
        from server.push.keys import KeyStore

        kid = KeyStore.load_or_create(cluster.settings).current.kid
        keys = self.browser_keys(n)
        database = make_database(cluster.settings)
        try:
            async with database.writer() as session:
                vendors = await seed_users(session, n)
                admins = await seed_users(session, 1, role="admin", tag="a") if admin else None
                devices = [
                    (uid, self.sink.endpoint(i), p, a)
                    for i, (uid, (p, a)) in enumerate(zip(vendors.user_ids, keys, strict=True))
                ]
                for chunk in range(0, n, 10_000):
                    await seed_subscriptions(session, devices[chunk : chunk + 10_000], kid)
                await session.commit()
        finally:
            await database.dispose()
        return vendors, admins


async def post_broadcast(url: str, admin: Seeded, title: str = "Maintenance tonight") -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.post(
            "/api/admin/broadcasts",
            json={"title": title, "body": "Read-only 02:00-02:30 UTC", "audience": "vendors"},
            headers=admin.headers(0),
        )
    response.raise_for_status()
    broadcast_id: str = response.json()["id"]
    return broadcast_id


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- sections --------------------------------------------------------------------------------


async def section_enqueue(bench: Bench) -> None:
    from bench.fanout import measure_enqueue

    n, peer_n = bench.args.devices, bench.args.per_user_devices
    url = bench.args.database_url
    # The per-user path runs on fewer users (its rate does not depend on the count, and
    # 100,000 users would take minutes); both in this run, on the same server.
    ours = await measure_enqueue(url, n, paths=("set_based",))
    peer = await measure_enqueue(url, peer_n, paths=("per_user",))
    fast, slow = ours["set_based"]["rows_per_second"], peer["per_user"]["rows_per_second"]
    bench.report(
        f"enqueue, broadcast to {n:,} subscriptions: set-based {fast:,.0f} rows/s "
        f"({ours['set_based']['seconds']:.1f} s); one notify() per user ({peer_n:,}) "
        f"{slow:,.0f} rows/s → {fast / slow:.1f}x (goal ≥ 20x)"
    )


async def queue_deliveries(cluster: Cluster, user_ids: list[int]) -> None:
    """One notice to each user, queued as the outbox queues it (for the drain runs)."""
    from sqlalchemy import insert, select

    from server.core.db import make_database
    from server.notifications.models import Notification
    from server.push.models import PushDelivery, PushSubscription
    from server.push.payload import build_message

    database = make_database(cluster.settings)
    now = datetime.now(UTC)
    try:
        async with database.writer() as session:
            subscriptions = dict(
                (
                    await session.execute(
                        select(PushSubscription.user_id, PushSubscription.id).where(
                            PushSubscription.user_id.in_(user_ids)
                        )
                    )
                ).all()
            )
            values = [
                {
                    "user_id": uid,
                    "type": "system",
                    "event": "system.notice",
                    "title": "Drain",
                    "body": "A queued push",
                    "url": "/notifications",
                    "data": {},
                    "created_at": now,
                }
                for uid in user_ids
            ]
            ids = list(
                await session.scalars(
                    insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
                    values,
                )
            )
            rows = []
            for nid, value in zip(ids, values, strict=True):
                message = build_message(
                    Notification(id=nid, **value), app_badge=1, link_base="http://127.0.0.1"
                )
                rows.append(queued_delivery(nid, subscriptions[value["user_id"]], message, now))
            await session.execute(insert(PushDelivery), rows)
            await session.commit()
    finally:
        await database.dispose()


async def section_drain(bench: Bench) -> None:
    concurrency = bench.args.worker_concurrency
    per_worker = bench.args.drain_per_worker
    rates: dict[int, float] = {}
    for workers in (1, 2, 4):
        n = per_worker * workers
        async with bench.cluster(WORKER_CONCURRENCY=str(concurrency)) as cluster:
            vendors, _ = await bench.vendors_with_devices(cluster, n, admin=False)
            for w in range(workers):
                cluster.start_worker(f"worker-{w}")
            await asyncio.sleep(3)  # the workers are up and polling an empty queue
            await queue_deliveries(cluster, vendors.user_ids)
            await bench.sink.wait_for(n, timeout=600)
            await asyncio.sleep(1.5)  # a second sending of any row would arrive by now
            _, arrivals = await bench.sink.stats()
            times = [t for ts in arrivals.values() for t in ts]
            rates[workers] = n / (max(times) - min(times))
            bench.report(
                f"drain, {workers} worker process(es), {concurrency} in flight each, sink "
                f"answering after {bench.args.sink_delay * 1000:.0f} ms: "
                f"{rates[workers]:,.0f} pushes/s "
                f"({n:,} rows, sent twice: {sent_twice(arrivals)})"
            )
    bench.report(
        f"  scale-out: 2 workers {rates[2] / rates[1]:.2f}x one, "
        f"4 workers {rates[4] / rates[1]:.2f}x one (goal ≥ 3.5x, 0 sent twice)"
    )


async def section_e2e(bench: Bench) -> None:
    n = bench.args.devices
    workers = 4
    async with bench.cluster() as cluster:
        started = time.perf_counter()
        _, admin = await bench.vendors_with_devices(cluster, n)
        assert admin is not None
        print(
            f"  seeded {n:,} vendors with real device keys in {time.perf_counter() - started:.1f} s"
        )
        api = await asyncio.to_thread(cluster.start_api, "api")
        for w in range(workers):
            cluster.start_worker(f"worker-{w}")
        await asyncio.sleep(3)
        posted = time.time()
        broadcast_id = await post_broadcast(api, admin)
        last = await bench.sink.wait_for(n, timeout=900)
        async with httpx.AsyncClient(base_url=api, timeout=30) as client:
            progress = (
                await client.get(f"/api/admin/broadcasts/{broadcast_id}", headers=admin.headers(0))
            ).json()
        _, arrivals = await bench.sink.stats()
        bench.report(
            f"e2e, broadcast to {n:,} devices, 1 API + {workers} worker processes, sink "
            f"{bench.args.sink_delay * 1000:.0f} ms: every push accepted {last - posted:.1f} s "
            f"after the POST (goal ≤ 20 s); {progress['recipients']:,} recipients, "
            f"{progress['push']['delivered']:,} delivered, sent twice: {sent_twice(arrivals)}"
        )
        if progress.get("finished_at"):
            # Which half bounds it: writing the rows, or sending the pushes behind them.
            written = datetime.fromisoformat(progress["finished_at"]).timestamp() - posted
            bench.report(f"  the fan-out had written every row {written:.1f} s after the POST")


@dataclass
class Tabs:
    """Open live channels; records when each notification event arrives, per user."""

    sockets: list[ClientConnection] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    events: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0

    async def open(self, urls: list[tuple[int, str]]) -> None:
        gate = asyncio.Semaphore(100)

        async def one(user: int, url: str) -> None:
            async with gate:
                ws = await connect(url, open_timeout=60, ping_interval=None, max_queue=None)
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(user, ws)))

        await asyncio.gather(*(one(user, url) for user, url in urls))

    async def _read(self, user: int, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                message = json.loads(text)
                if message.get("type") == "ping":
                    await ws.send('{"type":"pong"}')
                elif message.get("type") == "notification":
                    self.events[user].append(time.time())
        except Exception:
            self.errors += 1

    def count(self) -> int:
        return sum(map(len, self.events.values()))

    async def wait_for(self, total: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < total and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for task in self.tasks:
            task.cancel()


def ws_urls(apis: list[str], seeded: Seeded, per_user: int = 1) -> list[tuple[int, str]]:
    urls = []
    for i, token in enumerate(seeded.tokens):
        for tab in range(per_user):
            base = apis[(i + tab) % len(apis)].replace("http://", "ws://")
            urls.append((i, f"{base}/ws/notifications?token={token}"))
    return urls


async def section_tabs(bench: Bench) -> None:
    users = 500
    async with bench.cluster() as cluster:
        vendors, admin = await bench.vendors_with_devices(cluster, users)
        assert admin is not None
        apis = [await asyncio.to_thread(cluster.start_api, f"api-{i}") for i in range(2)]
        for w in range(2):
            cluster.start_worker(f"worker-{w}")
        tabs = Tabs()
        await tabs.open(ws_urls(apis, vendors))
        await asyncio.sleep(3)
        latencies = []
        for round_ in range(bench.args.tab_rounds):
            before = tabs.count()
            posted = time.time()
            await post_broadcast(apis[round_ % 2], admin, f"Notice {round_}")
            await tabs.wait_for(before + users, timeout=30)
            latencies += [events[-1] - posted for events in tabs.events.values()]
        await tabs.close()
        bench.report(
            f"tabs, broadcast to {users} users with an open tab each on 2 API processes "
            f"(Redis), {bench.args.tab_rounds} rounds: every tab p50 "
            f"{pct(latencies, 0.5) * 1000:.0f} ms, p99 {pct(latencies, 0.99) * 1000:.0f} ms "
            "(goal p99 ≤ 1,000 ms), "
            f"events {tabs.count()}/{users * bench.args.tab_rounds}"
        )


async def section_count(bench: Bench) -> None:
    loadgen.require_wrk()
    results = {}
    for label, redis, workers in (
        ("1 process, no Redis", False, 1),
        ("2 processes + Redis", True, 2),
    ):
        async with bench.cluster() as cluster:
            if not redis:
                cluster.redis_url = None
            vendors, _ = await bench.vendors_with_devices(cluster, 1000, admin=False)
            api = await asyncio.to_thread(cluster.start_api, "api", workers=workers)
            await queue_deliveries(cluster, vendors.user_ids[:500])  # some unread, some none
            path = "/api/notifications/count"
            seconds, connections = bench.args.count_seconds, 16
            loadgen.run(api, path, vendors.tokens, seconds=2, connections=connections)
            results[label] = loadgen.run(
                api, path, vendors.tokens, seconds=seconds, connections=connections
            )
            bench.report(results[label].line(f"count, {label}"))
    one, two = results.values()
    bench.report(f"  2 processes + Redis vs 1 process: {two.rps / one.rps:.0%} (goal ≥ 90%)")


async def section_mixed(bench: Bench) -> None:
    """Orders at a steady rate, inbox reads and open tabs, for `--mixed-seconds`."""
    args = bench.args
    vendors_n, tabs_n = 2000, 2000
    async with bench.cluster() as cluster:
        vendors, _ = await bench.vendors_with_devices(cluster, vendors_n, admin=False)
        from server.core.db import make_database

        database = make_database(cluster.settings)
        async with database.writer() as session:
            customers = await seed_users(session, 200, role="customer", tag="c")
            await session.commit()
        await database.dispose()
        apis = [await asyncio.to_thread(cluster.start_api, f"api-{i}") for i in range(2)]
        for w in range(2):
            cluster.start_worker(f"worker-{w}")
        tabs = Tabs()
        await tabs.open(ws_urls(apis, vendors, per_user=tabs_n // vendors_n))
        await asyncio.sleep(3)

        latencies: dict[str, list[float]] = defaultdict(list)
        errors: Counter[str] = Counter()
        placed: dict[int, list[float]] = defaultdict(list)  # vendor index → POST times
        rng = random.Random(7)
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def order(i: int) -> None:
                vendor = rng.randrange(vendors_n)
                body = {
                    "vendor_id": str(vendors.user_ids[vendor]),
                    "items": [{"name": "Flat white", "quantity": 2, "unit_price_cents": 350}],
                    "currency": "EUR",
                }
                started = time.time()
                try:
                    r = await client.post(
                        f"{apis[i % 2]}/api/orders", json=body, headers=customers.headers(i % 200)
                    )
                except httpx.HTTPError:
                    errors["order"] += 1
                    return
                latencies["order POST"].append(time.time() - started)
                if r.status_code != 201:
                    errors["order"] += 1
                else:
                    placed[vendor].append(started)

            async def read(i: int) -> None:
                vendor = rng.randrange(vendors_n)
                path = "/api/notifications?limit=20" if i % 2 else "/api/notifications/count"
                started = time.time()
                try:
                    r = await client.get(f"{apis[i % 2]}{path}", headers=vendors.headers(vendor))
                except httpx.HTTPError:
                    errors["inbox"] += 1
                    return
                latencies["inbox read"].append(time.time() - started)
                errors["inbox"] += r.status_code != 200

            async def steady(rate: float, action: Any) -> None:
                tasks, start = [], time.monotonic()
                for i in range(int(rate * args.mixed_seconds)):
                    delay = start + i / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(action(i)))
                await asyncio.gather(*tasks)

            await asyncio.gather(steady(args.order_rate, order), steady(args.read_rate, read))
        orders = sum(map(len, placed.values()))
        await bench.sink.wait_for(orders, timeout=120)
        await tabs.wait_for(orders * (tabs_n // vendors_n), timeout=30)
        _, arrivals = await bench.sink.stats()
        for vendor, posts in placed.items():
            pushes = sorted(arrivals.get(f"/push/d{vendor}", []))
            events = sorted(tabs.events.get(vendor, []))
            latencies["order → push"] += [
                p - s for s, p in zip(sorted(posts), pushes, strict=False)
            ]
            latencies["order → tab"] += [e - s for s, e in zip(sorted(posts), events, strict=False)]
            errors["push lost"] += max(0, len(posts) - len(pushes))
            errors["tab event lost"] += max(0, len(posts) * (tabs_n // vendors_n) - len(events))
        await tabs.close()
        errors["socket"] += tabs.errors
        bench.report(
            f"mixed, {args.mixed_seconds} s on 2 API + 2 workers: {orders:,} orders "
            f"({args.order_rate:.0f}/s), {len(latencies['inbox read']):,} inbox reads "
            f"({args.read_rate:.0f}/s), {len(tabs.sockets):,} open tabs"
        )
        for kind, values in latencies.items():
            bench.report(
                f"  {kind:<14} p50 {pct(values, 0.5) * 1000:7.1f} ms  p99 "
                f"{pct(values, 0.99) * 1000:7.1f} ms  ({len(values):,})"
            )
        bench.report(f"  errors and losses: {dict(errors) or 'none'} (goal: none)")


SECTIONS = {
    "enqueue": section_enqueue,
    "drain": section_drain,
    "e2e": section_e2e,
    "tabs": section_tabs,
    "count": section_count,
    "mixed": section_mixed,
}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--per-user-devices", type=int, default=10_000)
    parser.add_argument("--sink-delay", type=float, default=0.05)
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=16,
        help="pushes in flight per worker in the drain runs (latency-bound, not CPU-bound)",
    )
    parser.add_argument("--drain-per-worker", type=int, default=4000)
    parser.add_argument("--tab-rounds", type=int, default=10)
    parser.add_argument("--count-seconds", type=int, default=10)
    parser.add_argument("--mixed-seconds", type=int, default=60)
    parser.add_argument("--order-rate", type=float, default=20.0)
    parser.add_argument("--read-rate", type=float, default=100.0)
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    from server.models import load_all_models

    load_all_models()  # seeding inserts users, whose foreign keys name every feature's tables
    workdir = Path(tempfile.mkdtemp(prefix="vb-bench-scale-"))
    sink = Sink(args.sink_delay)
    bench = Bench(args, sink, workdir)
    print(
        f"bench-scale: {os.cpu_count()} CPUs, PostgreSQL {args.database_url.rsplit('@', 1)[-1]}, "
        f"Redis {args.redis_url.rsplit('@', 1)[-1]}, sink delay {args.sink_delay * 1000:.0f} ms",
        flush=True,
    )
    try:
        for name in args.only.split(","):
            started = time.perf_counter()
            await SECTIONS[name](bench)
            print(f"  ({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        sink.close()
    print("\nsummary")
    for line in bench.results:
        print(line)


if __name__ == "__main__":
    asyncio.run(main(parse()))
