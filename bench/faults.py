"""Faults a real deployment meets, measured in one run (`make bench-faults`).

    python -m bench.faults [--only push,mail,outage]

Each part starts what it needs on loopback (push services that answer or hang, an
SMTP server that stalls, real `python -m server` processes on PostgreSQL behind a
proxy that can be cut) and returns rows of (what, measured, goal):

  push    pushes to a healthy push service while another is blackholed (delay p50/p99;
          goal p99 ≤ 1 s); requests a service receives during its Retry-After pause
          (goal ≤ 1 probe per pause); lost / duplicated pushes (goal 0 / 0)
  mail    emails sent twice by two workers under an SMTP server that answers 451 and
          then hangs (goal 0); emails lost (goal 0)
  outage  answers during a 5 s database outage under steady load: bare 5xx (not the
          declared 503 JSON) and connections closed without an answer (goal 0)

The parts live beside this file (bench/faults_<part>.py); the raw encryption figure
is printed first, as for every benchmark, since machines differ.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time

from bench.push_peers import browser_keys, run_raw

PARTS = ("push", "mail", "outage")


def raw_encryption_us(n: int = 500) -> float:
    """Microseconds of CPU per raw RFC 8291 encryption (the machine's yardstick)."""
    keys = browser_keys(n)
    started = time.process_time()
    asyncio.run(run_raw(keys))
    return (time.process_time() - started) / n * 1e6


async def main(parts: list[str], raw_us: float) -> int:
    print(f"raw RFC 8291 encryption on this machine: {raw_us:.0f} µs per message")
    rows: list[tuple[str, str, str, str]] = []
    for part in parts:
        module = importlib.import_module(f"bench.faults_{part}")
        started = time.monotonic()
        print(f"\n[{part}] running…", flush=True)
        for what, measured, goal in await module.measure():
            rows.append((part, what, measured, goal))
            print(f"  {what}: {measured} (goal {goal})", flush=True)
        print(f"[{part}] {time.monotonic() - started:.0f} s")
    width = max(len(what) for _, what, _, _ in rows) if rows else 0
    print("\n| part | what | measured | goal |\n|---|---|---|---|")
    for part, what, measured, goal in rows:
        print(f"| {part} | {what:<{width}} | {measured} | {goal} |")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    args = parser.parse_args()
    raw_us = raw_encryption_us()
    raise SystemExit(asyncio.run(main([p for p in args.only.split(",") if p], raw_us)))
