"""Live channel benchmark: many open tabs on `WS /ws/notifications`.

    python -m bench.bench_ws [--clients 5000] [--users 500] [--rounds 200] [--redis-url URL]

Holds `--clients` WebSocket clients spread over `--users` vendors (10 tabs each by
default) and measures, for each server set-up:
  * peak RSS of the server process(es) while every client is connected;
  * event → client latency, p50/p99, for a notification to one user (a customer's
    POST /api/orders, measured from sending the request to each of the vendor's
    tabs receiving the event: HTTP, the database write and the fan-out), and for a
    system notice to every user (POST /api/admin/broadcasts: one notification row
    per user, written in chunks, each published after its commit).
Set-ups: vendorbell with one uvicorn worker (memory hub); vendorbell with two
workers sharing Redis (events go in through worker 1, tabs sit on both); the peer,
a bare `websockets` server that keeps a dict of sockets per user and fans out the
same-sized message when a control socket asks (no HTTP, no database, no auth).
Ratios are vendorbell / peer. Goals: 5,000 clients in ≤ 500 MB, p99 ≤ 50 ms for
one user, ≤ 1 s for all.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-" + "x" * 32
MESSAGE_BYTES = 560  # about one of our notification events, for the peer's messages


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- set-up: a database with vendors, a customer, an admin, and their tokens ---------------


@dataclass
class Seed:
    vendor_ids: list[str]
    vendor_tokens: list[str]
    customer_token: str
    admin_token: str


async def seed(database_url: str, users: int) -> Seed:
    from server.accounts.models import User
    from server.accounts.service import issue_token
    from server.db import Database

    database = Database(database_url)
    async with database.writer() as session:
        people = [
            User(email=f"v{n}@bench.invalid", name=f"Vendor {n}", role="vendor", password_hash="!")
            for n in range(users)
        ]
        customer = User(
            email="c@bench.invalid", name="Customer", role="customer", password_hash="!"
        )
        admin = User(email="a@bench.invalid", name="Admin", role="admin", password_hash="!")
        session.add_all([*people, customer, admin])
        await session.flush()
        tokens = [await issue_token(session, user, SECRET) for user in people]
        result = Seed(
            vendor_ids=[str(user.id) for user in people],
            vendor_tokens=tokens,
            customer_token=await issue_token(session, customer, SECRET),
            admin_token=await issue_token(session, admin, SECRET),
        )
        await session.commit()
    await database.dispose()
    return result


# --- servers -------------------------------------------------------------------------------


def serve_vendorbell(port: int) -> None:
    """Run like `python -m server run` does (settings from the environment)."""
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_ping_interval=None,  # as in `python -m server run`: the app pings itself
        backlog=4096,
    )


def serve_peer(port: int) -> None:
    """The peer: a bare websockets server with per-user fan-out on request."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    sockets: dict[str, set[ServerConnection]] = defaultdict(set)

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path.startswith("/control"):
            async for text in ws:
                target, _, payload = str(text).partition(" ")
                targets = sockets.items() if target == "*" else [(target, sockets[target])]
                for user, group in targets:
                    broadcast(group, payload.replace("USER", user))
            return
        user = path.rpartition("=")[2]
        sockets[user].add(ws)
        try:
            await ws.wait_closed()
        finally:
            sockets[user].discard(ws)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, ping_interval=None, backlog=4096):
            await asyncio.Future()

    asyncio.run(main())


def start(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.bench_ws", f"--serve-{kind}", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})


async def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(60):
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode}")
            try:
                async with connect(url, open_timeout=2):
                    return
            except OSError:
                await asyncio.sleep(0.2)
            except Exception:  # refused handshake (4401 after accept is fine too)
                return


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- clients -------------------------------------------------------------------------------


@dataclass
class Tabs:
    """Every open client; counts receipts against the round in progress."""

    sockets: list[ClientConnection] = field(default_factory=list)
    expected: int = 0
    received: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self, urls: list[str], concurrency: int = 100) -> float:
        gate = asyncio.Semaphore(concurrency)
        started = time.perf_counter()

        async def one(url: str) -> None:
            async with gate:
                ws = await connect(url, open_timeout=60, ping_interval=None, max_queue=None)
                self.sockets.append(ws)
                self.tasks.append(asyncio.create_task(self._read(ws)))

        await asyncio.gather(*(one(url) for url in urls))
        return time.perf_counter() - started

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                if '"type":"ping"' in str(text)[:20]:
                    await ws.send('{"type":"pong"}')
                    continue
                self.received.append(time.perf_counter())
                if len(self.received) >= self.expected:
                    self.done.set()
        except Exception:  # a closed tab simply stops counting
            return

    async def round(self, expected: int, trigger: Callable[[], Awaitable[None]]) -> list[float]:
        self.received, self.expected = [], expected
        self.done.clear()
        started = time.perf_counter()
        await trigger()
        try:
            await asyncio.wait_for(self.done.wait(), 30)
        except TimeoutError:
            print(f"    ! only {len(self.received)}/{expected} events arrived within 30 s")
        return [(t - started) * 1000 for t in self.received]

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for task in self.tasks:
            task.cancel()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Result:
    name: str
    rss_mb: float
    connect_s: float
    one: list[float]
    all_users: list[float]

    def line(self, peer: Result | None) -> str:
        def ratio(mine: float, theirs: float) -> str:
            return f" ({mine / theirs:4.1f}x)" if peer else ""

        p = peer or self
        one50, one99 = percentile(self.one, 0.5), percentile(self.one, 0.99)
        all50, all99 = percentile(self.all_users, 0.5), percentile(self.all_users, 0.99)
        return (
            f"  {self.name:<26} RSS {self.rss_mb:6.0f} MB{ratio(self.rss_mb, p.rss_mb)}"
            f" | one user p50 {one50:6.1f} ms{ratio(one50, percentile(p.one, 0.5))}"
            f" p99 {one99:6.1f} ms{ratio(one99, percentile(p.one, 0.99))}"
            f" | all users p50 {all50:6.0f} ms{ratio(all50, percentile(p.all_users, 0.5))}"
            f" p99 {all99:6.0f} ms{ratio(all99, percentile(p.all_users, 0.99))}"
            f" | connect {self.connect_s:4.1f} s"
        )


# --- the measurements ----------------------------------------------------------------------


async def measure(
    name: str,
    pids: list[int],
    urls: list[str],
    users: int,
    trigger_one: Callable[[int], Awaitable[None]],
    trigger_all: Callable[[], Awaitable[None]],
    args: argparse.Namespace,
) -> Result:
    tabs = Tabs()
    print(f"  {name}: opening {len(urls)} WebSocket clients …", flush=True)
    connect_s = await tabs.open(urls)
    per_user = [len(range(u, len(urls), users)) for u in range(users)]
    rng = random.Random(42)
    for _ in range(5):  # warm-up
        user = rng.randrange(users)
        await tabs.round(per_user[user], functools.partial(trigger_one, user))
    one: list[float] = []
    for _ in range(args.rounds):
        user = rng.randrange(users)
        one += await tabs.round(per_user[user], functools.partial(trigger_one, user))
        await asyncio.sleep(0.01)
    all_users: list[float] = []
    for _ in range(args.all_rounds):
        all_users += await tabs.round(len(urls), trigger_all)
        await asyncio.sleep(0.5)
    rss = sum(rss_mb(pid, "VmHWM") for pid in pids)
    await tabs.close()
    result = Result(name, rss, connect_s, one, all_users)
    print(result.line(None), flush=True)
    return result


def peer_message() -> str:
    message = {"type": "notification", "notification": {"id": "USER", "title": "New order"}}
    text = json.dumps(message)
    return text[:-2] + ',"body":"' + "x" * (MESSAGE_BYTES - len(text) - 10) + '"}}'


async def measure_peer(args: argparse.Namespace) -> Result:
    port = free_port()
    process = start("peer", port, {})
    try:
        await wait_ready(f"ws://127.0.0.1:{port}/control", process)
        urls = [f"ws://127.0.0.1:{port}/u?user={i % args.users}" for i in range(args.clients)]
        payload = peer_message()
        async with connect(f"ws://127.0.0.1:{port}/control", ping_interval=None) as control:

            async def one(user: int) -> None:
                await control.send(f"{user} {payload}")

            async def everyone() -> None:
                await control.send(f"* {payload}")

            return await measure(
                "peer (bare websockets)", [process.pid], urls, args.users, one, everyone, args
            )
    finally:
        process.terminate()
        process.wait(30)


async def measure_vendorbell(
    args: argparse.Namespace, seed_: Seed, env: dict[str, str], workers: int, name: str
) -> Result:
    ports = [free_port() for _ in range(workers)]
    processes = [start("vendorbell", port, env) for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            await wait_ready(f"ws://127.0.0.1:{port}/ws/notifications", process)
        urls = [
            f"ws://127.0.0.1:{ports[(i // args.users) % workers]}/ws/notifications"
            f"?token={seed_.vendor_tokens[i % args.users]}"
            for i in range(args.clients)
        ]
        items = [{"name": "Flat white", "quantity": 2, "unit_price_cents": 350}]
        customer = {"Authorization": f"Bearer {seed_.customer_token}"}
        admin = {"Authorization": f"Bearer {seed_.admin_token}"}
        notice = {"title": "Maintenance tonight", "body": "From 02:00 UTC.", "audience": "vendors"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as http:

            async def post(path: str, body: dict[str, object], headers: dict[str, str]) -> None:
                try:
                    response = await http.post(path, json=body, headers=headers)
                except httpx.TransportError:  # the server closed an idle keep-alive connection
                    response = await http.post(path, json=body, headers=headers)
                response.raise_for_status()

            async def one(user: int) -> None:
                body = {"vendor_id": seed_.vendor_ids[user], "items": items, "currency": "EUR"}
                await post("/api/orders", body, customer)

            async def everyone() -> None:
                await post("/api/admin/broadcasts", notice, admin)

            pids = [p.pid for p in processes]
            return await measure(name, pids, urls, args.users, one, everyone, args)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


async def redis_answers(url: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
        return True
    except Exception:
        return False
    finally:
        await client.aclose()


async def run(args: argparse.Namespace, workdir: Path, database_url: str) -> None:
    limit = raise_fd_limit()
    print(
        f"bench_ws: {args.clients} clients over {args.users} users, {args.rounds} one-user "
        f"rounds, {args.all_rounds} all-user rounds (fd limit {limit})",
        flush=True,
    )
    seed_ = await seed(database_url, args.users)
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "RUN_WORKER": "false",
        "DATA_DIR": str(workdir / "data"),
        "KEYS_DIR": str(workdir / "keys"),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
    }
    results = [await measure_peer(args)]
    results.append(await measure_vendorbell(args, seed_, env, 1, "vendorbell, 1 worker"))
    if args.redis_url and await redis_answers(args.redis_url):
        redis_env = {**env, "REDIS_URL": args.redis_url, "REDIS_CHANNEL": f"bench:{os.getpid()}"}
        results.append(
            await measure_vendorbell(args, seed_, redis_env, 2, "vendorbell, 2 workers+Redis")
        )
    else:
        print(f"  (skipping the two-worker run: no Redis answers at {args.redis_url!r})")

    peer = results[0]
    print("\nresults (ratios: vendorbell / peer)")
    print(peer.line(None))
    for result in results[1:]:
        print(result.line(peer))
    print("\ngoals: RSS ≤ 500 MB, one-user p99 ≤ 50 ms, all-user p99 ≤ 1000 ms")
    for result in results[1:]:
        checks = (
            result.rss_mb <= 500,
            percentile(result.one, 0.99) <= 50,
            percentile(result.all_users, 0.99) <= 1000,
        )
        marks = " ".join("ok" if ok else "MISSED" for ok in checks)
        print(f"  {result.name:<26} {marks}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=200, help="one-user notifications")
    parser.add_argument("--all-rounds", type=int, default=5, help="notices to every user")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        help="Redis for the two-worker run (skipped if it does not answer)",
    )
    parser.add_argument("--serve-vendorbell", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-peer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_vendorbell:
        serve_vendorbell(args.serve_vendorbell)
    elif args.serve_peer:
        serve_peer(args.serve_peer)
    else:
        from server.config import Settings
        from server.migrate import upgrade

        workdir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
        database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        upgrade(Settings(_env_file=None, database_url=database_url, data_dir=workdir))  # type: ignore[call-arg]
        asyncio.run(run(args, workdir, database_url))


if __name__ == "__main__":
    main()
