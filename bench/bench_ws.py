"""Live channel benchmark: many open tabs on `WS /ws/notifications`.

    python -m bench.bench_ws [--clients 5000] [--users 500] [--rounds 200] [--all-rounds 5]
                             [--redis-url URL] [--deflate] [--gc-log] [--only peer|one|two]

Holds `--clients` WebSocket clients spread over `--users` vendors (10 tabs each by
default) and measures, for each server set-up:
  * peak RSS (VmHWM) of the server process(es) with every client connected;
  * event → tab latency, p50/p99, from sending the triggering request to each tab
    receiving the event, for
      one user  via hub:       POST /bench/publish (the real app plus one bench route
                               calling hub.publish: the live channel alone);
      one user  via order:     a customer's POST /api/orders (HTTP, the order, the
                               notification and push rows in SQLite, then the fan-out);
      all users via hub:       one hub.publish per user, 500 in one request;
      all users via broadcast: POST /api/admin/broadcasts (a notification row per user,
                               written in chunks, each published after its commit).
Set-ups: vendorbell with one uvicorn worker (memory hub); two workers sharing Redis
(requests go to worker 1, each user's tabs sit on both); the peer, a bare `websockets`
server keeping a dict of sockets per user that fans out a same-sized message when a
control socket asks (no HTTP, no database, no auth). Ratios are vendorbell / peer,
for the "hub" rows. Servers run as `python -m server run` does (app-level pings) and
without permessage-deflate unless `--deflate` (zlib state costs ~50 KB per socket).
Goals: 5,000 clients in ≤ 500 MB, p99 ≤ 50 ms for one user, ≤ 1 s for all.
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
from typing import Any

import httpx
from fastapi import APIRouter, Request
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
    from server.core.db import Database

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


def bench_app() -> Any:
    """The real app plus POST /bench/publish: the live channel alone, without the database."""
    from server.app import create_app

    app = create_app()
    extra = APIRouter()

    @extra.post("/bench/publish")
    async def publish(request: Request) -> dict[str, int]:
        users: list[int] = (await request.json())["users"]
        hub = request.app.state.hub
        for user_id in users:
            await hub.publish(user_id, channel_message(user_id))
        return {"published": len(users)}

    app.router.routes[0:0] = extra.routes  # ahead of the PWA's catch-all route
    if os.environ.get("BENCH_GC_LOG"):
        log_gc_pauses()
    if os.environ.get("BENCH_GC_FREEZE"):
        import gc

        gc.collect()
        gc.freeze()  # start-up objects (imports, app) leave the collector's full passes
    if threshold := os.environ.get("BENCH_GC_THRESHOLD"):
        import gc

        gc.set_threshold(*(int(n) for n in threshold.split(",")))
    return app


def log_gc_pauses(threshold_ms: float = 20.0) -> None:
    """Print each garbage-collector pass longer than `threshold_ms` (a stall for every socket)."""
    import gc

    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif (ms := (time.perf_counter() - started[0]) * 1000) > threshold_ms:
            print(f"    gc gen{info['generation']} pass: {ms:.0f} ms", file=sys.stderr, flush=True)

    gc.callbacks.append(callback)


def channel_message(user_id: int) -> dict[str, Any]:
    """Shaped like notify()'s event (built per user, as notify() does)."""
    notification = {
        "id": "0",
        "type": "system",
        "event": "system.notice",
        "title": "Maintenance tonight",
        "body": "The shop is read-only from 02:00 to 02:30 UTC while we upgrade the database.",
        "url": "/notifications",
        "data": {"user": str(user_id)},
        "created_at": "2026-11-25T12:00:00Z",
        "seen_at": None,
        "read_at": None,
        "push": {"queued": 0, "delivered": 0, "failed": 0, "expired": 0},
    }
    return {"type": "notification", "notification": notification, "unread": 3, "unseen": 1}


def serve_vendorbell(port: int, deflate: bool) -> None:
    """Run like `python -m server run` does (settings from the environment)."""
    import uvicorn

    uvicorn.run(
        "bench.bench_ws:bench_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_ping_interval=None,  # as in `python -m server run`: the app pings itself
        ws_per_message_deflate=deflate,
        backlog=4096,
    )


def serve_peer(port: int, deflate: bool) -> None:
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
        compression = "deflate" if deflate else None
        async with serve(
            handler, "127.0.0.1", port, ping_interval=None, backlog=4096, compression=compression
        ):
            await asyncio.Future()

    asyncio.run(main())


def start(kind: str, port: int, env: dict[str, str], deflate: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.bench_ws", f"--serve-{kind}", str(port)]
    command += ["--deflate"] if deflate else []
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


ONE = ("one user", "hub")
Scenario = tuple[str, str]  # (who: "one user" | "all users", path: "hub" | "order" | …)


@dataclass
class Result:
    name: str
    rss_mb: float
    connect_s: float
    latencies: dict[Scenario, list[float]]

    def lines(self, peer: Result | None) -> list[str]:
        def ratio(mine: float, theirs: float | None) -> str:
            return f" ({mine / theirs:5.1f}x)" if theirs else "        "

        rss_ratio = ratio(self.rss_mb, peer.rss_mb if peer else None)
        out = [
            f"  {self.name}: RSS {self.rss_mb:.0f} MB{rss_ratio}, connect {self.connect_s:.1f} s"
        ]
        for (who, path), values in self.latencies.items():
            theirs = peer.latencies.get((who, "hub")) if peer and path == "hub" else None
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            peer50 = percentile(theirs, 0.5) if theirs else None
            peer99 = percentile(theirs, 0.99) if theirs else None
            out.append(
                f"    {who:<9} via {path:<9} p50 {p50:7.1f} ms{ratio(p50, peer50)}"
                f"   p99 {p99:7.1f} ms{ratio(p99, peer99)}   ({len(values)} receipts)"
            )
        return out


# --- the measurements ----------------------------------------------------------------------


async def measure(
    name: str,
    pids: list[int],
    urls: list[str],
    users: int,
    to_one: dict[str, Callable[[int], Awaitable[None]]],
    to_all: dict[str, Callable[[], Awaitable[None]]],
    args: argparse.Namespace,
    ready: Callable[[], Awaitable[None]] | None = None,
) -> Result:
    tabs = Tabs()
    print(f"  {name}: opening {len(urls)} WebSocket clients …", flush=True)
    connect_s = await tabs.open(urls)
    if ready is not None:
        await ready()
    print(f"  {name}: {len(urls)} clients connected and subscribed; measuring …", flush=True)
    per_user = [len(range(u, len(urls), users)) for u in range(users)]
    rng = random.Random(42)
    latencies: dict[Scenario, list[float]] = {}
    for path, trigger in to_one.items():
        for n in range(args.rounds + 5):  # the first 5 warm up
            user = rng.randrange(users)
            got = await tabs.round(per_user[user], functools.partial(trigger, user))
            if n >= 5:
                latencies.setdefault(("one user", path), []).extend(got)
            await asyncio.sleep(0.01)
    for path, trigger_all in to_all.items():
        for _ in range(args.all_rounds):
            latencies.setdefault(("all users", path), []).extend(
                await tabs.round(len(urls), trigger_all)
            )
            await asyncio.sleep(0.5)
    rss = sum(rss_mb(pid, "VmHWM") for pid in pids)
    await tabs.close()
    result = Result(name, rss, connect_s, latencies)
    print("\n".join(result.lines(None)), flush=True)
    return result


def peer_message() -> str:
    message = {"type": "notification", "notification": {"id": "USER", "title": "New order"}}
    text = json.dumps(message)
    return text[:-2] + ',"body":"' + "x" * (MESSAGE_BYTES - len(text) - 10) + '"}}'


async def measure_peer(args: argparse.Namespace) -> Result:
    port = free_port()
    process = start("peer", port, {}, args.deflate)
    try:
        await wait_ready(f"ws://127.0.0.1:{port}/control", process)
        urls = [f"ws://127.0.0.1:{port}/u?user={i % args.users}" for i in range(args.clients)]
        payload = peer_message()
        async with connect(f"ws://127.0.0.1:{port}/control", ping_interval=None) as control:

            async def one(user: int) -> None:
                await control.send(f"{user} {payload}")

            async def everyone() -> None:
                await control.send(f"* {payload}")

            name = "peer (bare websockets)"
            to_one, to_all = {"hub": one}, {"hub": everyone}
            return await measure(name, [process.pid], urls, args.users, to_one, to_all, args)
    finally:
        process.terminate()
        process.wait(30)


async def measure_vendorbell(
    args: argparse.Namespace, seed_: Seed, env: dict[str, str], workers: int, name: str
) -> Result:
    ports = [free_port() for _ in range(workers)]
    processes = [start("vendorbell", port, env, args.deflate) for port in ports]
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

            async def hub_one(user: int) -> None:
                await post("/bench/publish", {"users": [int(seed_.vendor_ids[user])]}, {})

            async def hub_all() -> None:
                await post("/bench/publish", {"users": [int(v) for v in seed_.vendor_ids]}, {})

            async def order(user: int) -> None:
                body = {"vendor_id": seed_.vendor_ids[user], "items": items, "currency": "EUR"}
                await post("/api/orders", body, customer)

            async def broadcast() -> None:
                await post("/api/admin/broadcasts", notice, admin)

            async def subscribed() -> None:
                """The handshake ends before the socket is subscribed: wait for the gauge."""
                async with asyncio.timeout(120):
                    while await open_sockets(http, ports) < len(urls):
                        await asyncio.sleep(0.2)

            pids = [p.pid for p in processes]
            to_one = {"hub": hub_one, "order": order}
            to_all = {"hub": hub_all, "broadcast": broadcast}
            return await measure(
                name, pids, urls, args.users, to_one, to_all, args, ready=subscribed
            )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


async def open_sockets(http: httpx.AsyncClient, ports: list[int]) -> int:
    total = 0
    for port in ports:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        for line in text.splitlines():
            if line.startswith("vendorbell_websocket_connections "):
                total += int(float(line.split()[1]))
    return total


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
        "ROLE": "all",  # broadcasts fan out in the serving processes (no separate worker)
        "DATA_DIR": str(workdir / "data"),
        "KEYS_DIR": str(workdir / "keys"),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
    }
    if args.gc_freeze:
        env["BENCH_GC_FREEZE"] = "1"
    if args.gc_log:
        env["BENCH_GC_LOG"] = "1"
    if args.gc_threshold:
        env["BENCH_GC_THRESHOLD"] = args.gc_threshold
    only = set(args.only or ["peer", "one", "two"]) | {"peer"}
    results = [await measure_peer(args)]
    if "one" in only:
        results.append(await measure_vendorbell(args, seed_, env, 1, "vendorbell, 1 worker"))
    if "two" not in only:
        pass
    elif args.redis_url and await redis_answers(args.redis_url):
        redis_env = {**env, "REDIS_URL": args.redis_url, "REDIS_CHANNEL": f"bench:{os.getpid()}"}
        results.append(
            await measure_vendorbell(args, seed_, redis_env, 2, "vendorbell, 2 workers+Redis")
        )
    else:
        print(f"  (skipping the two-worker run: no Redis answers at {args.redis_url!r})")

    peer = results[0]
    deflate = "on" if args.deflate else "off"
    print(f"\nresults (permessage-deflate {deflate}; ratios: vendorbell / peer)")
    for result in results:
        print("\n".join(result.lines(None if result is peer else peer)))
    print("\ngoals: RSS ≤ 500 MB, one-user p99 ≤ 50 ms, all-user p99 ≤ 1000 ms")
    for result in results[1:]:
        checks = [f"RSS {'ok' if result.rss_mb <= 500 else 'MISSED'}"]
        for (who, path), values in result.latencies.items():
            limit = 50 if who == "one user" else 1000
            checks.append(
                f"{who} via {path} {'ok' if percentile(values, 0.99) <= limit else 'MISSED'}"
            )
        print(f"  {result.name}: " + ", ".join(checks))


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
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="servers accept permessage-deflate (uvicorn default; ~50 KB zlib state per socket)",
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="the app calls gc.freeze() once built"
    )
    parser.add_argument("--gc-log", action="store_true", help="servers print long GC passes")
    parser.add_argument("--gc-threshold", help="servers call gc.set_threshold(a, b, c): 'a,b,c'")
    parser.add_argument(
        "--only", choices=["peer", "one", "two"], action="append", help="run only these set-ups"
    )
    parser.add_argument("--serve-vendorbell", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-peer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_vendorbell:
        serve_vendorbell(args.serve_vendorbell, args.deflate)
    elif args.serve_peer:
        serve_peer(args.serve_peer, args.deflate)
    else:
        from server.core.config import Settings
        from server.core.migrate import upgrade

        workdir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
        database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        upgrade(Settings(_env_file=None, database_url=database_url, data_dir=workdir))  # type: ignore[call-arg]
        asyncio.run(run(args, workdir, database_url))


if __name__ == "__main__":
    main()
