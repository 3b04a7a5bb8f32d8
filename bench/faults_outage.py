"""A PostgreSQL outage under a steady load: is every request answered, and how?

    python -m bench.faults_outage [--database-url URL] [--seconds 5] [--mode refuse|blackhole]
                                  [--examples]

One `python -m server run` process (every role: HTTP, WebSocket and the background
loops) talks to PostgreSQL through a loopback TCP proxy (tests/tcpproxy.py). A steady
load of reads, writes, sign-ins, `/readyz` and WebSocket handshakes runs for 3 s, then
the proxy is cut for `--seconds` (every connection dropped; new ones refused, then in a
second run accepted and never answered: `--mode refuse|blackhole` for one), then
restored for 8 s.

Every answer is sorted: a success or a client refusal; the declared outage answer
(503 JSON with `code` `unavailable`, or `not_ready` for /readyz, and `Retry-After`); any
other 5xx (a "bare" one: a crash answered as text, or an undeclared shape); a
connection closed without an answer; no answer within the client's 30 s. Goal: no bare
5xx and no dropped connection; writes succeed again soon after the database is back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.cluster import Cluster
from tests.tcpproxy import CutMode, TcpProxy

DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/vendorbell_bench_outage"
CLIENT_TIMEOUT = 30.0
LOADERS = 8  # concurrent clients, each pausing PAUSE between requests
PAUSE = 0.05
BEFORE, AFTER = 3.0, 8.0


@dataclass
class Tally:
    kinds: Counter[str] = field(default_factory=Counter)
    longest_in_outage: float = 0.0
    first_write_after: float | None = None  # seconds from restore to a 2xx write
    examples: dict[str, str] = field(default_factory=dict)

    def note(self, kind: str, example: str) -> None:
        self.kinds[kind] += 1
        self.examples.setdefault(kind, example[:200])


def classify(response: httpx.Response) -> str:
    if response.status_code < 500:
        return "answered"
    if response.status_code == 503 and response.headers.get("retry-after", "").isdigit():
        try:
            code = response.json().get("code")
        except ValueError:
            code = None
        if code in ("unavailable", "not_ready") and "detail" in response.json():
            return "declared 503"
    return "bare 5xx"


@dataclass
class Load:
    base: str
    customer: dict[str, str]
    vendor_id: str
    vendor_token: str
    tally: Tally = field(default_factory=Tally)
    cut_at: float | None = None
    restored_at: float | None = None
    stop: bool = False

    def requests(self, n: int) -> tuple[str, str, dict[str, Any]]:
        order = {
            "vendor_id": self.vendor_id,
            "items": [{"name": "Tea", "quantity": 1, "unit_price_cents": 250}],
            "currency": "EUR",
        }
        mix: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/api/orders", {"json": order, "headers": self.customer}),
            ("GET", "/api/notifications", {"headers": self.customer}),
            ("GET", "/api/notifications/count", {"headers": self.customer}),
            ("POST", "/api/notifications/mark-all-read", {"headers": self.customer}),
            ("GET", "/api/vendors", {}),
            ("POST", "/api/auth/login", {"json": {"email": "nobody@example.com", "password": "x"}}),
            ("GET", "/readyz", {}),
        ]
        return mix[n % len(mix)]

    async def run_http(self, index: int) -> None:
        # Half the clients keep their connection alive (as browsers and proxies do), half
        # open one per request.
        limits = httpx.Limits(max_keepalive_connections=None if index % 2 else 0)
        async with httpx.AsyncClient(
            base_url=self.base, timeout=CLIENT_TIMEOUT, limits=limits
        ) as client:
            n = index
            while not self.stop:
                method, path, kwargs = self.requests(n)
                n += 1
                await self.one(client, method, path, kwargs)
                await asyncio.sleep(PAUSE)

    async def one(
        self, client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]
    ) -> None:
        started = time.monotonic()
        in_outage = self.cut_at is not None and self.restored_at is None
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            self.tally.note("no answer in 30 s", f"{method} {path}")
            return
        except httpx.TransportError as exc:
            self.tally.note("closed without an answer", f"{method} {path}: {exc!r}")
            return
        elapsed = time.monotonic() - started
        kind = classify(response)
        self.tally.note(kind, f"{method} {path} {response.status_code} {response.text}")
        if in_outage:
            self.tally.longest_in_outage = max(self.tally.longest_in_outage, elapsed)
        if (
            method == "POST"
            and path == "/api/orders"
            and response.status_code == 201
            and self.restored_at is not None
            and started >= self.restored_at
            and self.tally.first_write_after is None
        ):
            self.tally.first_write_after = time.monotonic() - self.restored_at

    async def run_ws(self) -> None:
        url = self.base.replace("http://", "ws://") + f"/ws/notifications?token={self.vendor_token}"
        while not self.stop:
            try:
                async with asyncio.timeout(CLIENT_TIMEOUT):
                    async with connect(url, open_timeout=CLIENT_TIMEOUT) as socket:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(socket.recv(), 0.2)
                self.tally.note("answered", "ws")
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code == 1013:
                    self.tally.note("declared 503", "ws 1013")
                else:
                    self.tally.note("closed without an answer", f"ws closed {code}")
            except InvalidStatus as exc:
                status = exc.response.status_code
                self.tally.note("bare 5xx" if status >= 500 else "answered", f"ws {status}")
            except TimeoutError:
                self.tally.note("no answer in 30 s", "ws")
            except OSError as exc:
                self.tally.note("closed without an answer", f"ws {exc!r}")
            await asyncio.sleep(PAUSE * 4)


async def reset_database(url: str) -> None:
    from bench.bench_push import _reset_postgres

    await _reset_postgres(url)


async def sign_up(base: str) -> tuple[dict[str, str], str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens: dict[str, str] = {}
        ids: dict[str, str] = {}
        for role in ("customer", "vendor"):
            body = {
                "email": f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                "password": "correct horse battery",
                "name": f"Outage {role}",
                "role": role,
            }
            response = await client.post("/api/auth/register", json=body)
            response.raise_for_status()
            tokens[role] = response.json()["token"]
            ids[role] = response.json()["user"]["id"]
    return {"Authorization": f"Bearer {tokens['customer']}"}, ids["vendor"], tokens["vendor"]


async def measure(
    database_url: str | None = None,
    seconds: float = 5.0,
    modes: tuple[CutMode, ...] = ("refuse", "blackhole"),
    *,
    examples: bool = False,
) -> list[tuple[str, str, str]]:
    """Rows (what, figure, goal): one outage of `seconds` under a steady load per mode
    (PostgreSQL refusing connections; then the network dropping its packets)."""
    database_url = database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    result: list[tuple[str, str, str]] = []
    for mode in modes:
        tally = await one_outage(database_url, seconds, mode)
        if examples:
            for kind, example in sorted(tally.examples.items()):
                print(f"{kind}: {example}")
        result += rows(tally, seconds, mode)
    return result


async def one_outage(database_url: str, seconds: float, mode: CutMode) -> Tally:
    target = make_url(database_url)
    await reset_database(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    port = await proxy.start()
    proxied = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(proxied, None, Path(tmp))
        try:
            # Blocking calls in threads: the proxy they connect through runs on this loop.
            await asyncio.to_thread(cluster.migrate)
            base = await asyncio.to_thread(cluster.start_api, "api", role="all")
            customer, vendor_id, vendor_token = await sign_up(base)
            load = Load(base, customer, vendor_id, vendor_token)
            tasks = [asyncio.create_task(load.run_http(i)) for i in range(LOADERS)]
            tasks.append(asyncio.create_task(load.run_ws()))
            await asyncio.sleep(BEFORE)
            load.cut_at = time.monotonic()
            await proxy.cut(mode)
            await asyncio.sleep(seconds)
            await proxy.restore()
            load.restored_at = time.monotonic()
            await asyncio.sleep(AFTER)
            load.stop = True
            await asyncio.gather(*tasks)
        finally:
            await asyncio.to_thread(cluster.close)
            await proxy.close()
    return load.tally


def rows(tally: Tally, seconds: float, mode: str) -> list[tuple[str, str, str]]:
    kinds = tally.kinds
    what = f"PostgreSQL {'refusing' if mode == 'refuse' else 'blackholed'} {seconds:g} s"
    dropped = kinds["closed without an answer"]
    bare = kinds["bare 5xx"] + dropped + kinds["no answer in 30 s"]
    recovered = tally.first_write_after
    return [
        (f"{what}: bare 5xx + dropped + unanswered", str(bare), "0"),
        (f"{what}: connections closed without an answer", str(dropped), "0"),
        (f"{what}: declared 503 (JSON, Retry-After; WS 1013)", str(kinds["declared 503"]), "-"),
        (f"{what}: answered otherwise (2xx, 4xx)", str(kinds["answered"]), "-"),
        (
            f"{what}: longest answer to a request sent in it",
            f"{tally.longest_in_outage:.1f} s",
            "≤ 5 s",
        ),
        (
            f"{what}: first order written after it",
            "never" if recovered is None else f"{recovered:.1f} s",
            "a few s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--mode", choices=("refuse", "blackhole"), action="append", help="default: both"
    )
    parser.add_argument("--examples", action="store_true", help="print one answer of each kind")
    args = parser.parse_args()
    for row in asyncio.run(
        measure(
            args.database_url,
            args.seconds,
            tuple(args.mode or ("refuse", "blackhole")),
            examples=args.examples,
        )
    ):
        print(f"{row[0]:<70} {row[1]:>8}   goal {row[2]}")


if __name__ == "__main__":
    main()
