"""Sustainable order rate: orders placed over HTTP until the push at the push service is late.

    python -m bench.bench_orders [--baseline REF] [--rates 20,40,60,...] [--seconds 6]

One `python -m server run` (SQLite, its own worker: what `make run` starts) gets 50 vendors
with one browser subscription each, signed up and subscribed through the API, so any
version of the server can be measured the same way. A customer then places orders at each
rate in turn, open loop (a slow answer does not slow the next order), for `--seconds` each.
For every order, the time from its POST being sent to its push arriving at a loopback push
service (a separate process answering 201). The **sustainable rate** is the highest rate
whose p99 stays within 100 ms with every push arriving.

CPU per order is the server's own CPU plus its encryption processes' (from /proc), per
order of the step: the request, the unit of work, the after-commit work, the worker's
claim, encryption, send and bookkeeping together.

`--baseline REF` measures a git revision too (checked out into a temporary worktree, its
server started from there), in the same run, so the two figures share the machine's mood.
The raw RFC 8291 encryption time is printed beside them: it scales with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.bench_push import free_port, percentile
from bench.push_peers import browser_keys, run_raw
from bench.push_sink import run_sink, sink_reset, sink_stats

ROOT = Path(__file__).resolve().parent.parent
VENDORS = 50
PASSWORD = "bench order password 1"
GOAL_P99 = 0.100  # seconds: an order's push later than this is not keeping up
WARMUP = 30
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Step:
    rate: float
    placed: int
    received: int
    latencies: list[float]
    cpu_per_order: float

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50) if self.latencies else float("inf")

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99) if self.latencies else float("inf")

    @property
    def kept_up(self) -> bool:
        return self.received == self.placed and self.p99 <= GOAL_P99


@dataclass
class Run:
    name: str
    steps: list[Step] = field(default_factory=list)

    @property
    def sustainable(self) -> float:
        rates = [s.rate for s in self.steps if s.kept_up]
        return max(rates) if rates else 0.0


# --- the server under test ----------------------------------------------------------------


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live children (the encryption processes)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent pid; [11], [12] utime and stime in clock ticks.
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def start_server(code: Path, port: int, data: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "PYTHONPATH": str(code),
        "DATA_DIR": str(data / "data"),
        "KEYS_DIR": str(data / "keys"),
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PUSH_ALLOWED_HOSTS": "127.0.0.1",
        "REGISTER_MAX_PER_WINDOW": "1000",
        "RUN_WORKER": "true",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "server", "run", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=data, env=env)


async def wait_up(client: httpx.AsyncClient) -> None:
    for _ in range(600):
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start within 60 s")


async def sign_up(client: httpx.AsyncClient, email: str, role: str) -> tuple[str, str]:
    body = {"email": email, "password": PASSWORD, "name": email.split("@")[0], "role": role}
    answer = await client.post("/api/auth/register", json=body)
    if answer.status_code != 201:
        raise RuntimeError(f"sign-up refused: {answer.status_code} {answer.text}")
    client.cookies.clear()
    return str(answer.json()["user"]["id"]), str(answer.json()["token"])


async def seed(client: httpx.AsyncClient, sink: int) -> tuple[list[str], str]:
    """Vendors with one device each at the sink (path = vendor id), and a customer."""
    vendors = []
    for n, (p256dh, auth) in enumerate(browser_keys(VENDORS)):
        vendor, token = await sign_up(client, f"v{n}@shop.example.com", "vendor")
        device = {
            "endpoint": f"http://127.0.0.1:{sink}/o/{vendor}",
            "keys": {"p256dh": p256dh, "auth": auth},
        }
        headers = {"Authorization": f"Bearer {token}"}
        answer = await client.post("/api/push/subscriptions", json=device, headers=headers)
        answer.raise_for_status()
        vendors.append(vendor)
    _, customer = await sign_up(client, "customer@shop.example.com", "customer")
    return vendors, customer


# --- placing orders -------------------------------------------------------------------------


class Orders:
    def __init__(self, client: httpx.AsyncClient, sink: int, vendors: list[str], token: str):
        self.client, self.sink, self.vendors = client, sink, vendors
        self.headers = {"Authorization": f"Bearer {token}"}
        self.sent: dict[str, list[float]] = {v: [] for v in vendors}
        self.failed = 0

    async def place(self, vendor: str) -> None:
        body = {
            "vendor_id": vendor,
            "currency": "EUR",
            "items": [{"name": "Flat white", "quantity": 2, "unit_price_cents": 350}],
        }
        self.sent[vendor].append(time.time())
        answer = await self.client.post("/api/orders", json=body, headers=self.headers)
        if answer.status_code != 201:
            self.failed += 1

    async def at_rate(self, rate: float, count: int) -> None:
        tasks = []
        start = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(self.place(self.vendors[i % len(self.vendors)])))
        await asyncio.gather(*tasks)

    async def arrivals(self, expected: int, patience: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + patience
        while True:
            stats = await sink_stats(self.sink)
            if stats["count"] >= expected or time.monotonic() > deadline:
                return stats
            await asyncio.sleep(0.05)

    def latencies(self, stats: dict[str, Any]) -> list[float]:
        arrived: dict[str, list[float]] = {v: [] for v in self.vendors}
        for path, at in stats["arrivals"]:
            arrived.setdefault(path.rsplit("/", 1)[1], []).append(at)
        out: list[float] = []
        for vendor in self.vendors:
            pairs = zip(sorted(self.sent[vendor]), sorted(arrived[vendor]), strict=False)
            out += [got - sent for sent, got in pairs]
        return out

    async def reset(self) -> None:
        await sink_reset(self.sink)
        for times in self.sent.values():
            times.clear()
        self.failed = 0


async def step(orders: Orders, pid: int, rate: float, seconds: float) -> Step:
    await orders.reset()
    count = max(1, round(rate * seconds))
    cpu0 = tree_cpu(pid)
    await orders.at_rate(rate, count)
    stats = await orders.arrivals(count)
    cpu = tree_cpu(pid) - cpu0
    placed = count - orders.failed
    return Step(rate, placed, stats["count"], orders.latencies(stats), cpu / max(1, placed))


async def measure(name: str, code: Path, sink: int, args: argparse.Namespace) -> Run:
    run = Run(name)
    data = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    port = free_port()
    server = start_server(code, port, data)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_up(client)
            vendors, customer = await seed(client, sink)
            orders = Orders(client, sink, vendors, customer)
            # Warm-up: the first requests import lazily and compile their SQL.
            await orders.at_rate(20, WARMUP)
            await orders.arrivals(WARMUP)
            gc.collect()
            gc.freeze()  # the load generator's own collections must not count as latency
            for rate in args.rates:
                result = await step(orders, server.pid, rate, args.seconds)
                run.steps.append(result)
                print(f"  {name:<12} {line(result)}", flush=True)
                if not result.kept_up and result.p99 > 4 * GOAL_P99:
                    break  # far past the knee: higher rates only queue
                await asyncio.sleep(1.0)  # let the queue drain between steps
    finally:
        server.terminate()
        server.wait(60)
        shutil.rmtree(data, ignore_errors=True)
    return run


def line(s: Step) -> str:
    mark = "ok" if s.kept_up else "LATE" if s.received == s.placed else "LOST"
    return (
        f"{s.rate:>5.0f} orders/s  {s.received:>5}/{s.placed:<5} pushes  "
        f"p50 {s.p50 * 1000:>6.1f} ms  p99 {s.p99 * 1000:>7.1f} ms  "
        f"CPU/order {s.cpu_per_order * 1000:>5.2f} ms  {mark}"
    )


# --- main -----------------------------------------------------------------------------------


def checkout(ref: str) -> Path:
    where = Path(tempfile.mkdtemp(prefix="bench-orders-baseline-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", "-f", str(where), ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return where


def raw_encryption_us(n: int = 2000) -> float:
    keys = browser_keys(n)
    start = time.process_time()
    asyncio.run(run_raw(keys))
    return (time.process_time() - start) / n * 1e6


def summary(runs: list[Run], raw_us: float) -> None:
    print(f"\nraw RFC 8291 encryption on this machine: {raw_us:.0f} µs/message")
    for run in runs:
        kept = [s for s in run.steps if s.kept_up]
        cpu = min((s.cpu_per_order for s in kept), default=float("nan"))
        print(
            f"  {run.name:<12} sustainable {run.sustainable:>5.0f} orders/s "
            f"(p99 ≤ {GOAL_P99 * 1000:.0f} ms, none lost); CPU/order {cpu * 1000:.2f} ms "
            f"= {cpu * 1e6 / raw_us:.0f}x one raw encryption"
        )
    if len(runs) == 2 and runs[1].sustainable:
        ratio = runs[0].sustainable / runs[1].sustainable
        print(f"  this tree / {runs[1].name}: {ratio:.2f}x the sustainable rate (goal ≥ 2x)")


async def main(args: argparse.Namespace) -> list[Run]:
    sink_ready: Any = multiprocessing.get_context("spawn").Queue()
    sink = multiprocessing.get_context("spawn").Process(target=run_sink, args=(sink_ready,))
    sink.start()
    port, _ = sink_ready.get(timeout=30)  # (plain port, TLS port: none asked)
    runs = []
    baseline = checkout(args.baseline) if args.baseline else None
    try:
        runs.append(await measure("this tree", ROOT, port, args))
        if baseline:
            runs.append(await measure(args.baseline[:12], baseline, port, args))
    finally:
        sink.terminate()
        if baseline:
            subprocess.run(["git", "worktree", "remove", "-f", str(baseline)], cwd=ROOT)
    return runs


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a git revision to measure in the same run")
    parser.add_argument("--rates", default="20,40,60,80,100,120,150,200,250,300")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    return args


if __name__ == "__main__":
    arguments = parse()
    print(
        f"bench-orders: {VENDORS} vendors, one device each, {arguments.seconds:.0f} s per rate, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    results = asyncio.run(main(arguments))
    summary(results, raw_encryption_us())
