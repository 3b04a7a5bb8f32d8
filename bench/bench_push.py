"""Web Push fan-out benchmark: vendorbell's delivery path against pywebpush and Node's
web-push, same sink, over plain HTTP and over TLS.

    python -m bench.bench_push [--mode both|plain|tls] [--subscriptions 10000]
                               [--database-url URL] [--readme 1000] [--async-n 4000]
                               [--raw 4000] [--orders 500] [--rate 50]
                               [--tls-subscriptions 4000] [--tls-readme 300]
                               [--tls-async 2000] [--tls-node 2000]

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
4. TLS (bench.bench_push_tls): the same sink also listens with a self-signed certificate
   made at the start; vendorbell and both pywebpush peers again (smaller sizes: the README
   loop makes a TLS handshake per push), and Node's web-push (bench/node, 64 in flight)
   where node and its install are found. Every push received over TLS is decrypted and
   its VAPID JWT verified by the sink after each timed run; only those count.

CPU seconds are this process's (all threads: the SQLite driver thread included) plus
the worker's encryption processes; the sink runs in its own process and is not counted
(Node's are its own process's, from process.cpuUsage()). Modules are imported before
anything is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.aiohttp_client import AiohttpClient
from bench.bench_push_tls import tls_part, tls_sizes
from bench.certs import make_certificate
from bench.push_peers import (
    Result,
    Run,
    browser_keys,
    browser_keys_with_secrets,
    measure,
    print_ratios,
    python_peers,
    run_http_ece,
    run_raw,
)
from bench.push_sink import run_sink, sink_reset, sink_stats
from bench.push_vendorbell import run_vendorbell, seed_fanout

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-" + "x" * 32
WARMUP_ORDERS = 20  # placed and delivered before the latency run is timed
LATENCY_VENDORS = 50


# --- 3. order → push latency -----------------------------------------------------------------


async def run_latency(
    settings: Any, port: int, orders: int, rate: float
) -> tuple[list[float], list[float]]:
    """Orders at `rate`/s to a `python -m server run` process (API + in-app worker).
    Returns (order POST sent → push at sink, notification committed → push at sink)."""
    import subprocess

    token, vendor_ids = await latency_vendors(settings, port)
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
    try:
        base = f"http://127.0.0.1:{api_port}"
        sent, arrivals, window = await place_orders(base, token, vendor_ids, port, orders, rate)
    finally:
        server.terminate()
        server.wait(30)
    committed = await commit_times(settings, vendor_ids, window)
    arrived: dict[int, list[float]] = {v: [] for v in vendor_ids}
    for path, at in arrivals:
        arrived[int(path.rsplit("/", 1)[1])].append(at)
    from_post, from_commit = [], []
    for vendor in vendor_ids:
        got = sorted(arrived[vendor])
        from_post += [g - b for b, g in zip(sorted(sent[vendor]), got, strict=False)]
        from_commit += [g - c for c, g in zip(sorted(committed[vendor]), got, strict=False)]
    return from_post, from_commit


async def latency_vendors(settings: Any, port: int) -> tuple[str, list[int]]:
    """50 vendors with one subscription each (endpoint /lat/<user id>) and a customer:
    (the customer's token, the vendors' ids)."""
    from server.accounts.models import User
    from server.accounts.service import issue_token
    from server.core.db import make_database
    from server.push.models import PushSubscription

    keys = browser_keys(LATENCY_VENDORS)
    database = make_database(settings)
    kid = (settings.keys_dir / "current").read_text().strip()
    async with database.writer() as session:
        people = [
            User(email=f"lv{n}@bench.invalid", name=f"Shop {n}", role="vendor", password_hash="!")
            for n in range(LATENCY_VENDORS)
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
    await database.dispose()
    return token, vendor_ids


async def place_orders(
    base: str, token: str, vendor_ids: list[int], port: int, orders: int, rate: float
) -> tuple[dict[int, list[float]], list[tuple[str, float]], float]:
    """Warm-up, then `orders` at `rate`/s, round robin over the vendors: (when each
    vendor's orders were sent, the sink's arrivals, the start of the timed window)."""
    import httpx

    sent: dict[int, list[float]] = {v: [] for v in vendor_ids}
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
            await place(vendor_ids[i % len(vendor_ids)])
        await sink_count_at_least(port, WARMUP_ORDERS)
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
            tasks.append(asyncio.create_task(place(vendor_ids[i % len(vendor_ids)])))
        await asyncio.gather(*tasks)
        stats = await sink_count_at_least(port, orders)
    return sent, [(path, at) for path, at in stats["arrivals"]], window


async def sink_count_at_least(port: int, count: int) -> dict[str, Any]:
    """The sink's stats once it counted `count` pushes, or after 10 s."""
    for _ in range(200):
        stats = await sink_stats(port)
        if stats["count"] >= count:
            break
        await asyncio.sleep(0.05)
    return stats


async def commit_times(
    settings: Any, vendor_ids: list[int], window: float
) -> dict[int, list[float]]:
    """When each vendor's push deliveries since `window` were committed."""
    from sqlalchemy import select

    from server.core.db import make_database
    from server.push.models import PushDelivery, PushSubscription

    database = make_database(settings)
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
    return committed


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
    import_everything()
    began = time.perf_counter()
    run, sink = start(args, settings)
    try:
        raw = await plain_part(run) if args.mode != "tls" else None
        if args.mode != "plain":
            await tls_part(run, raw)
    finally:
        sink.terminate()
        sink.join(5)
    print(f"\nbench-push took {time.perf_counter() - began:.0f} s")


def start(args: argparse.Namespace, settings: Any) -> tuple[Run, Any]:
    """Keys (the VAPID key, every subscription's), the sink's certificate and secrets,
    the sink process; prints what the run is made of."""
    from server.push.crypto_pool import auto_processes
    from server.push.keys import KeyStore

    store = KeyStore.load_or_create(settings)
    pem = str(next(settings.keys_dir.glob("vapid-*.pem")))
    count = max(args.subscriptions if args.mode != "tls" else 0, tls_sizes(args).most)
    keys, secrets = browser_keys_with_secrets(count)
    work = Path(settings.keys_dir).parent
    cert, tls, secrets_file = None, None, None
    if args.mode != "plain":
        cert, key = make_certificate(work)
        tls = (str(cert), str(key))
        secrets_file = work / "sink-secrets.json"
        vapid_key = store.current.public_key
        secrets_file.write_text(json.dumps({"vapid_key": vapid_key, "secrets": secrets}))
    ready: Any = multiprocessing.get_context("spawn").Queue()
    sink = multiprocessing.get_context("spawn").Process(
        target=run_sink, args=(ready, tls, str(secrets_file) if secrets_file else None), daemon=True
    )
    sink.start()
    port, tls_port = ready.get(timeout=30)
    processes = settings.push_encrypt_processes
    print(
        f"bench-push: {args.subscriptions} subscriptions, database "
        f"{settings.database_url.split(':')[0]}, {os.cpu_count()} CPUs (a shared machine's "
        f"figures vary: compare ratios), sink pid {sink.pid}, encryption processes "
        f"{auto_processes() if processes is None else processes}",
        flush=True,
    )
    run = Run(args, settings, port, tls_port, cert, keys, store.current.kid, pem)
    return run, sink


async def plain_part(run: Run) -> Result:
    """vendorbell and the peers over plain HTTP; returns raw encryption's figure."""
    args, settings, keys, n = run.args, run.settings, run.keys, run.args.subscriptions
    base = f"http://127.0.0.1:{run.port}/push"
    print("plain HTTP:", flush=True)
    enqueue = await seed_fanout(settings, base, keys[:n], run.kid)
    print(f"  enqueue (notification + outbox rows, bulk): {enqueue:.2f} s", flush=True)
    ours = await measure(
        "vendorbell worker (DB+encrypt+HTTP)", n, lambda: run_vendorbell(settings, n)
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with_aiohttp = None
    if args.aiohttp:
        aiohttp_base = f"http://127.0.0.1:{run.port}/w"  # endpoints are unique
        await seed_fanout(settings, aiohttp_base, keys[: args.aiohttp], run.kid, "w")
        with_aiohttp = await measure(
            "  same, aiohttp.ClientSession",
            args.aiohttp,
            lambda: run_vendorbell(settings, args.aiohttp, AiohttpClient(settings)),
        )
    stats = await sink_stats(run.port)
    assert stats["count"] >= n, stats["count"]
    readme, aio = await python_peers(run, base, args.readme, args.async_n)
    raw = await measure("raw RFC 8291 (cryptography)", args.raw, lambda: run_raw(keys[: args.raw]))
    ece = await measure(
        "http_ece.encrypt (pywebpush's)", args.raw, lambda: run_http_ece(keys[: args.raw])
    )
    print()
    print(
        f"vendorbell: {ours.rate:.0f} pushes/s end to end through the database, "
        f"{ours.cpu_per * 1e6:.0f} µs CPU/push, peak RSS {rss_mb:.0f} MB "
        f"(enqueue of {n} rows took {enqueue:.2f} s more)"
    )
    print_ratios(ours, readme, aio, raw)
    print(f"  own encryption vs http_ece: {ece.cpu_per / raw.cpu_per:4.2f}x faster")
    if with_aiohttp is not None:
        print(
            f"  own HTTP/1.1 client vs aiohttp in the same worker: "
            f"{ours.rate / with_aiohttp.rate:4.2f}x pushes/s, "
            f"{with_aiohttp.cpu_per / ours.cpu_per:4.2f}x less CPU/push"
        )
    if args.orders:
        await latency_part(run)
    return raw


async def latency_part(run: Run) -> None:
    args = run.args
    from_post, from_commit = await run_latency(run.settings, run.port, args.orders, args.rate)
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


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["both", "plain", "tls"], default="both")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--readme", type=int, default=1000, help="pushes for the README loop")
    parser.add_argument("--async-n", type=int, default=4000, help="pushes for webpush_async")
    parser.add_argument("--raw", type=int, default=4000, help="messages for raw encryption")
    parser.add_argument("--aiohttp", type=int, default=4000, help="pushes with aiohttp (0: skip)")
    parser.add_argument("--orders", type=int, default=500, help="0 skips the latency run")
    parser.add_argument("--rate", type=float, default=50.0, help="orders per second")
    parser.add_argument("--tls-subscriptions", type=int, default=4000, help="vendorbell, TLS")
    parser.add_argument("--tls-readme", type=int, default=300, help="README loop, TLS")
    parser.add_argument("--tls-async", type=int, default=2000, help="webpush_async, TLS")
    parser.add_argument("--tls-node", type=int, default=2000, help="Node web-push, TLS")
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
