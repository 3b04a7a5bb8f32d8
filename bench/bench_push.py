"""Web Push fan-out benchmark: vendorbell's delivery path against pywebpush, same sink.

    python -m bench.bench_push [--subscriptions 10000] [--database-url URL]
                               [--readme 1000] [--async-n 4000] [--raw 4000]
                               [--orders 500] [--rate 50]

1. vendorbell: one system notice fanned out to N vendors (one browser subscription
   each, real P-256 keys): notification + outbox rows written in bulk, then the
   delivery worker claims them (leases), encrypts (aes128gcm, in its encryption
   processes: --encrypt-processes), signs (cached VAPID JWT), POSTs through its
   pooled HTTP/1.1 client (and, for comparison, aiohttp) and records every outcome.
   Timed from the first claim to the last row marked delivered in the database.
2. Peers, on the same loopback sink (a separate process answering 201):
   * pywebpush README loop: `webpush(subscription_info, data, vapid_private_key=<pem path>,
     vapid_claims={"sub": ...})` once per subscription;
   * pywebpush `webpush_async`, 64 in flight, one shared aiohttp session;
   * raw RFC 8291 encryption with `cryptography` (no HTTP): the CPU floor.
3. Order placed → push received at the sink: `--orders` orders at `--rate`/s through
   the real app (in-process ASGI) with its in-app worker; p50/p99.

CPU seconds are this process's (all threads: the SQLite driver thread included) plus
the worker's encryption processes; the sink runs in its own process and is not counted.
Modules are imported before anything is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-" + "x" * 32
WARMUP_ORDERS = 20  # placed and delivered before the latency run is timed
RESPONSE_201 = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"


# --- the sink: a minimal HTTP/1.1 keep-alive server in its own process -----------------------


class SinkProtocol(asyncio.Protocol):
    count = 0
    arrivals: list[tuple[str, float]] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 : head.find(b"\r\n", at) % (len(head) + 1)]) if at >= 0 else 0
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            path = head.split(b" ", 2)[1].decode()
            del self.buffer[:total]
            if path == "/stats":
                body = json.dumps({"count": SinkProtocol.count, "arrivals": SinkProtocol.arrivals})
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body.encode())
                )
            elif path == "/reset":
                SinkProtocol.count, SinkProtocol.arrivals = 0, []
                self.transport.write(RESPONSE_201)
            else:
                SinkProtocol.count += 1
                SinkProtocol.arrivals.append((path, time.time()))
                self.transport.write(RESPONSE_201)


def run_sink(ready: Any) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(SinkProtocol, "127.0.0.1", 0, backlog=4096)
        ready.put(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    uvloop.run(main())


async def sink_stats(port: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    body = await reader.readexactly(length)
    writer.close()
    result: dict[str, Any] = json.loads(body)
    return result


async def sink_reset(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    n: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.n / self.wall

    @property
    def cpu_per(self) -> float:
        return self.cpu / self.n


def children_cpu() -> float:
    """CPU seconds of child processes that have ended (the worker's encryption pool,
    stopped with the worker); the sink is a child too but ends only after the runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def measure(name: str, n: int, run: Callable[[], Awaitable[None]]) -> Result:
    own0, children0, wall0 = time.process_time(), children_cpu(), time.perf_counter()
    await run()
    wall = time.perf_counter() - wall0
    children = children_cpu() - children0
    result = Result(name, n, wall, time.process_time() - own0 + children)
    print(
        f"  {name:<34} {n:>6} pushes  {result.rate:>8.0f}/s  "
        f"{result.cpu_per * 1e6:>6.0f} µs CPU/push"
        + (f" ({children / n * 1e6:.0f} in encryption processes)" if children else ""),
        flush=True,
    )
    return result


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys(n: int) -> list[tuple[str, str]]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = []
    for _ in range(n):
        public = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        keys.append((b64(public), b64(os.urandom(16))))
    return keys


# --- 1. vendorbell ---------------------------------------------------------------------------


async def seed_fanout(
    settings: Any, port: int, keys: list[tuple[str, str]], kid: str, tag: str = "v"
) -> float:
    """N vendors with one subscription each; one system notice to all: notification and
    outbox rows in bulk, as the notification service writes them. Returns seconds taken."""
    from sqlalchemy import insert

    from server.accounts.models import User
    from server.core.db import make_database, utcnow
    from server.notifications.models import Notification
    from server.push.models import PushDelivery, PushSubscription
    from server.push.payload import build_message

    database = make_database(settings)
    now = utcnow()
    async with database.writer() as session:
        users = list(
            await session.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"{tag}{n}@bench.invalid",
                        "name": f"Vendor {n}",
                        "role": "vendor",
                        "password_hash": "!",
                        "created_at": now,
                    }
                    for n in range(len(keys))
                ],
            )
        )
        subscriptions = await session.scalars(
            insert(PushSubscription).returning(PushSubscription.id, sort_by_parameter_order=True),
            [
                {
                    "user_id": uid,
                    "endpoint": f"http://127.0.0.1:{port}/push/{uid}",
                    "p256dh": p,
                    "auth": a,
                    "vapid_key_id": kid,
                    "muted": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for uid, (p, a) in zip(users, keys, strict=True)
            ],
        )
        subscription_ids = list(subscriptions)
        await session.commit()
    started = time.perf_counter()
    async with database.writer() as session:
        now = utcnow()
        notifications = list(
            await session.scalars(
                insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
                [
                    {
                        "user_id": uid,
                        "type": "system",
                        "event": "system.notice",
                        "title": "Scheduled maintenance tonight",
                        "body": "The marketplace will be read-only from 02:00 to 02:30 UTC.",
                        "url": "/notifications",
                        "data": {},
                        "created_at": now,
                    }
                    for uid in users
                ],
            )
        )
        rows = []
        for uid, nid, sid in zip(users, notifications, subscription_ids, strict=True):
            note = Notification(
                id=nid,
                user_id=uid,
                type="system",
                event="system.notice",
                title="Scheduled maintenance tonight",
                body="The marketplace will be read-only from 02:00 to 02:30 UTC.",
                url="/notifications",
                data={},
            )
            message = build_message(note, app_badge=1, link_base=settings.public_url)
            rows.append(queued_delivery(nid, sid, message, now))
        await session.execute(insert(PushDelivery), rows)
        await session.commit()
    await database.dispose()
    return time.perf_counter() - started


def queued_delivery(
    notification_id: int, subscription_id: int, message: Any, now: datetime
) -> dict[str, Any]:
    """An outbox row as `enqueue_push` writes it, due now (bulk seeding)."""
    return {
        "notification_id": notification_id,
        "subscription_id": subscription_id,
        "status": "queued",
        "payload": message.payload,
        "ttl": message.ttl,
        "urgency": message.urgency,
        "topic": message.topic,
        "attempts": 0,
        "created_at": now,
        "due_at": now,
        "expires_at": now + timedelta(seconds=message.ttl),
    }


async def run_vendorbell(settings: Any, n: int, client: str = "http1") -> None:
    from sqlalchemy import select

    from bench.aiohttp_client import AiohttpClient
    from server.core.db import make_database
    from server.push.keys import KeyStore
    from server.push.models import PushDelivery
    from server.push.sender import Sender
    from server.push.worker import DeliveryWorker

    database = make_database(settings)
    keys = KeyStore.load_or_create(settings)
    sender = Sender(settings, keys, AiohttpClient(settings)) if client == "aiohttp" else None
    worker = DeliveryWorker(database, settings, keys, sender=sender)
    await worker.start()
    try:
        while True:
            await asyncio.sleep(0.05)
            async with database.reader() as session:  # one index probe, not a count
                left = await session.scalar(
                    select(PushDelivery.id).where(PushDelivery.status == "queued").limit(1)
                )
            if left is None:
                break
    finally:
        await worker.stop()
        await database.dispose()


# --- 2. peers --------------------------------------------------------------------------------


def sub_info(port: int, n: int, keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "endpoint": f"http://127.0.0.1:{port}/push/{n}",
        "keys": {"p256dh": keys[0], "auth": keys[1]},
    }


PEER_DATA = json.dumps(
    {
        "web_push": 8030,
        "notification": {
            "title": "Scheduled maintenance tonight",
            "body": "The marketplace will be read-only from 02:00 to 02:30 UTC.",
            "navigate": "http://127.0.0.1:8000/notifications",
            "tag": "system-1",
            "lang": "en",
        },
        "app_badge": 1,
        "mutable": True,
    }
)


async def run_readme_loop(port: int, keys: list[tuple[str, str]], pem: str, sub: str) -> None:
    from pywebpush import webpush

    def loop() -> None:
        for n, k in enumerate(keys):
            webpush(
                subscription_info=sub_info(port, n, k),
                data=PEER_DATA,
                vapid_private_key=pem,
                vapid_claims={"sub": sub},
            )

    loop()  # synchronous, as in the README


async def run_webpush_async(port: int, keys: list[tuple[str, str]], pem: str, sub: str) -> None:
    import aiohttp
    from py_vapid import Vapid
    from pywebpush import webpush_async

    vapid = Vapid.from_file(pem)
    limit = asyncio.Semaphore(64)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def one(n: int, k: tuple[str, str]) -> None:
            async with limit:
                await webpush_async(
                    subscription_info=sub_info(port, n, k),
                    data=PEER_DATA,
                    vapid_private_key=vapid,
                    vapid_claims={"sub": sub},  # fresh per call: pywebpush writes aud/exp into it
                    aiohttp_session=session,
                )

        await asyncio.gather(*(one(n, k) for n, k in enumerate(keys)))


async def run_raw(keys: list[tuple[str, str]]) -> None:
    from server.push.crypto import encrypt_payload

    data = PEER_DATA.encode()
    decoded = [
        (base64.urlsafe_b64decode(p + "=="), base64.urlsafe_b64decode(a + "==")) for p, a in keys
    ]
    for p, a in decoded:
        encrypt_payload(data, p, a)


async def run_http_ece(keys: list[tuple[str, str]]) -> None:
    import http_ece
    from cryptography.hazmat.primitives.asymmetric import ec

    data = PEER_DATA.encode()
    for p, a in keys:
        http_ece.encrypt(
            data,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=base64.urlsafe_b64decode(p + "=="),
            auth_secret=base64.urlsafe_b64decode(a + "=="),
            version="aes128gcm",
        )


# --- 3. order → push latency -----------------------------------------------------------------


async def run_latency(
    settings: Any, port: int, orders: int, rate: float
) -> tuple[list[float], list[float]]:
    """Orders at `rate`/s to a `python -m server run` process (API + in-app worker).
    Returns (order POST sent → push at sink, notification committed → push at sink)."""
    import subprocess

    import httpx
    from sqlalchemy import select

    from server.accounts.models import User
    from server.accounts.service import issue_token
    from server.core.db import make_database
    from server.push.models import PushDelivery, PushSubscription

    vendors = 50
    keys = browser_keys(vendors)
    database = make_database(settings)
    kid = (settings.keys_dir / "current").read_text().strip()
    async with database.writer() as session:
        people = [
            User(email=f"lv{n}@bench.invalid", name=f"Shop {n}", role="vendor", password_hash="!")
            for n in range(vendors)
        ]
        customer = User(
            email="lc@bench.invalid", name="Customer", role="customer", password_hash="!"
        )
        session.add_all([*people, customer])
        await session.flush()
        token = await issue_token(session, customer, SECRET)
        session.add_all(
            PushSubscription(
                user_id=u.id,
                endpoint=f"http://127.0.0.1:{port}/lat/{u.id}",
                p256dh=p,
                auth=a,
                vapid_key_id=kid,
                muted=False,
            )
            for u, (p, a) in zip(people, keys, strict=True)
        )
        await session.commit()
        vendor_ids = [u.id for u in people]
    await sink_reset(port)

    api_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": SECRET,
        "KEYS_DIR": str(settings.keys_dir),
        "DATA_DIR": str(settings.data_dir),
        "PUSH_ALLOWED_HOSTS": "127.0.0.1",
        "RUN_WORKER": "true",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--host", "127.0.0.1", "--port", str(api_port)],
        cwd=ROOT,
        env=env,
    )
    sent: dict[int, list[float]] = {v: [] for v in vendor_ids}
    try:
        base = f"http://127.0.0.1:{api_port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(200):
                try:
                    await client.get("/api/vendors")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            headers = {"Authorization": f"Bearer {token}"}

            async def place(vendor: int) -> None:
                body = {
                    "vendor_id": str(vendor),
                    "currency": "EUR",
                    "items": [{"name": "Flat white", "quantity": 2, "unit_price_cents": 350}],
                }
                sent[vendor].append(time.time())
                response = await client.post("/api/orders", json=body, headers=headers)
                assert response.status_code == 201, response.text

            # Warm-up, not measured: the server's first requests import modules lazily
            # and compile their SQL (40+ ms stalls seen), which is start-up, not load.
            for i in range(WARMUP_ORDERS):
                await place(vendor_ids[i % vendors])
            for _ in range(200):
                if (await sink_stats(port))["count"] >= WARMUP_ORDERS:
                    break
                await asyncio.sleep(0.05)
            await sink_reset(port)
            for times in sent.values():
                times.clear()
            window = time.time()
            # The load generator's own collector pauses (20-50 ms seen here) must not
            # count as the server's latency: its objects so far are frozen.
            gc.collect()
            gc.freeze()
            tasks = []
            start = time.perf_counter()
            for i in range(orders):
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(place(vendor_ids[i % vendors])))
            await asyncio.gather(*tasks)
            for _ in range(200):
                stats = await sink_stats(port)
                if stats["count"] >= orders:
                    break
                await asyncio.sleep(0.05)
    finally:
        server.terminate()
        server.wait(30)
    async with database.reader() as session:
        rows = await session.execute(
            select(PushSubscription.user_id, PushDelivery.created_at)
            .join(PushSubscription, PushDelivery.subscription_id == PushSubscription.id)
            .where(
                PushSubscription.user_id.in_(vendor_ids),
                PushDelivery.created_at >= datetime.fromtimestamp(window, UTC),
            )
        )
        committed: dict[int, list[float]] = {v: [] for v in vendor_ids}
        for user_id, created in rows:
            committed[user_id].append(created.timestamp())
    await database.dispose()
    arrived: dict[int, list[float]] = {v: [] for v in vendor_ids}
    for path, at in stats["arrivals"]:
        arrived[int(path.rsplit("/", 1)[1])].append(at)
    from_post, from_commit = [], []
    for vendor in vendor_ids:
        got = sorted(arrived[vendor])
        from_post += [g - b for b, g in zip(sorted(sent[vendor]), got, strict=False)]
        from_commit += [g - c for c, g in zip(sorted(committed[vendor]), got, strict=False)]
    return from_post, from_commit


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- main ------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> Any:
    """Settings on a fresh database (migrated here: Alembic runs its own event loop)."""
    from server.core.config import Settings
    from server.core.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-push-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        data_dir=tmp / "data",
        keys_dir=tmp / "keys",
        secret_key=SECRET,
        push_allowed_hosts=["127.0.0.1"],
        run_worker=False,
        redis_url=None,
        log_level="WARNING",
        push_encrypt_processes=args.encrypt_processes,
    )
    if not settings.is_sqlite:
        asyncio.run(_reset_postgres(url))  # the benchmark needs an empty database
    upgrade(settings)
    return settings


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = make_url(url).database
    admin = create_async_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        exists = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def import_everything() -> None:
    """Load the modules of every contender up front: a running worker has its modules
    loaded, and importing them inside a timed run measured the import, not the pushes."""
    import http_ece  # noqa: F401
    import py_vapid  # noqa: F401
    import pywebpush  # noqa: F401

    import server.push.worker  # noqa: F401


async def main(args: argparse.Namespace, settings: Any) -> None:
    from server.push.keys import KeyStore

    import_everything()

    url = settings.database_url
    store = KeyStore.load_or_create(settings)
    pem = str(next(settings.keys_dir.glob("vapid-*.pem")))

    ready: Any = multiprocessing.get_context("spawn").Queue()
    sink = multiprocessing.get_context("spawn").Process(target=run_sink, args=(ready,), daemon=True)
    sink.start()
    port = ready.get(timeout=30)
    n = args.subscriptions
    from server.push.crypto_pool import auto_processes

    processes = settings.push_encrypt_processes
    print(
        f"bench-push: {n} subscriptions, database {url.split(':')[0]}, "
        f"{os.cpu_count()} CPUs, sink pid {sink.pid}, encryption processes "
        f"{auto_processes() if processes is None else processes}",
        flush=True,
    )
    keys = browser_keys(n)
    try:
        enqueue = await seed_fanout(settings, port, keys, store.current.kid)
        print(f"  enqueue (notification + outbox rows, bulk): {enqueue:.2f} s", flush=True)
        ours = await measure(
            "vendorbell worker (DB+encrypt+HTTP)", n, lambda: run_vendorbell(settings, n)
        )
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.aiohttp:
            await seed_fanout(settings, port, keys[: args.aiohttp], store.current.kid, "w")
            with_aiohttp = await measure(
                "  same, aiohttp.ClientSession",
                args.aiohttp,
                lambda: run_vendorbell(settings, args.aiohttp, "aiohttp"),
            )
        stats = await sink_stats(port)
        assert stats["count"] >= n, stats["count"]
        sub = settings.vapid_subject
        readme = await measure(
            "pywebpush README loop",
            args.readme,
            lambda: run_readme_loop(port, keys[: args.readme], pem, sub),
        )
        aio = await measure(
            "pywebpush webpush_async, 64 flying",
            args.async_n,
            lambda: run_webpush_async(port, keys[: args.async_n], pem, sub),
        )
        raw = await measure(
            "raw RFC 8291 (cryptography)", args.raw, lambda: run_raw(keys[: args.raw])
        )
        ece = await measure(
            "http_ece.encrypt (pywebpush's)", args.raw, lambda: run_http_ece(keys[: args.raw])
        )
        print()
        print(
            f"vendorbell: {ours.rate:.0f} pushes/s end to end through the database, "
            f"{ours.cpu_per * 1e6:.0f} µs CPU/push, peak RSS {rss_mb:.0f} MB "
            f"(enqueue of {n} rows took {enqueue:.2f} s more)"
        )
        print(f"  vs README loop:        {ours.rate / readme.rate:5.1f}x  (goal ≥ 6x)")
        print(f"  vs webpush_async (64): {ours.rate / aio.rate:5.1f}x  (goal ≥ 3x)")
        print(
            f"  CPU/push: {readme.cpu_per / ours.cpu_per:4.1f}x less than the README loop, "
            f"{aio.cpu_per / ours.cpu_per:4.1f}x less than webpush_async "
            "(steadier than pushes/s on a shared machine)"
        )
        print(f"  CPU/push vs raw encryption: {ours.cpu_per / raw.cpu_per:4.2f}x  (goal ≤ 2.5x)")
        print(f"  own encryption vs http_ece: {ece.cpu_per / raw.cpu_per:4.2f}x faster")
        if args.aiohttp:
            print(
                f"  own HTTP/1.1 client vs aiohttp in the same worker: "
                f"{ours.rate / with_aiohttp.rate:4.2f}x pushes/s, "
                f"{with_aiohttp.cpu_per / ours.cpu_per:4.2f}x less CPU/push"
            )
        if args.orders:
            from_post, from_commit = await run_latency(settings, port, args.orders, args.rate)
            print(
                f"order → push at the sink, {args.rate:.0f} orders/s to `python -m server run`, "
                f"{len(from_post)}/{args.orders} received:"
            )
            for label, values in (
                ("order POST sent", from_post),
                ("notification committed", from_commit),
            ):
                print(
                    f"  from {label:<23} p50 {statistics.median(values) * 1000:6.1f} ms, "
                    f"p99 {percentile(values, 99) * 1000:6.1f} ms (goal p99 ≤ 50 ms)"
                )
    finally:
        sink.terminate()
        sink.join(5)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--readme", type=int, default=1000, help="pushes for the README loop")
    parser.add_argument("--async-n", type=int, default=4000, help="pushes for webpush_async")
    parser.add_argument("--raw", type=int, default=4000, help="messages for raw encryption")
    parser.add_argument("--aiohttp", type=int, default=4000, help="pushes with aiohttp (0: skip)")
    parser.add_argument("--orders", type=int, default=500, help="0 skips the latency run")
    parser.add_argument("--rate", type=float, default=50.0, help="orders per second")
    parser.add_argument(
        "--encrypt-processes", type=int, default=None, help="PUSH_ENCRYPT_PROCESSES (auto)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    sys.setrecursionlimit(10_000)
    import uvloop

    arguments = parse()
    uvloop.run(main(arguments, prepare(arguments)))
