"""What bench/bench_push.py measures beside vendorbell: pywebpush's README loop and
`webpush_async`, raw RFC 8291 encryption; and how it measures (wall time, CPU seconds)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
    return browser_keys_with_secrets(n)[0]


def browser_keys_with_secrets(n: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """N subscriptions' (p256dh, auth) and, for the sink to decrypt with, (d, auth):
    each private key's scalar, base64url."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    keys, secrets = [], []
    for _ in range(n):
        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        auth = b64(os.urandom(16))
        keys.append((b64(public), auth))
        secrets.append((b64(private.private_numbers().private_value.to_bytes(32, "big")), auth))
    return keys, secrets


# --- 2. peers --------------------------------------------------------------------------------


def sub_info(base: str, n: int, keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "endpoint": f"{base}/{n}",
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


async def run_readme_loop(base: str, keys: list[tuple[str, str]], pem: str, sub: str) -> None:
    from pywebpush import webpush

    def loop() -> None:
        for n, k in enumerate(keys):
            webpush(
                subscription_info=sub_info(base, n, k),
                data=PEER_DATA,
                vapid_private_key=pem,
                vapid_claims={"sub": sub},
            )

    loop()  # synchronous, as in the README


async def run_webpush_async(
    base: str, keys: list[tuple[str, str]], pem: str, sub: str, tls: Any = True
) -> None:
    """`tls`: aiohttp's `ssl` (an SSLContext trusting the sink's certificate over TLS)."""
    import aiohttp
    from py_vapid import Vapid
    from pywebpush import webpush_async

    vapid = Vapid.from_file(pem)
    limit = asyncio.Semaphore(64)
    connector = aiohttp.TCPConnector(limit=64, ssl=tls)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int, k: tuple[str, str]) -> None:
            async with limit:
                await webpush_async(
                    subscription_info=sub_info(base, n, k),
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


# --- a run's shared parts and its report ------------------------------------------------------

GOALS = {"readme": 10.0, "async": 4.0, "node": 4.0, "raw": 1.6}


@dataclass
class Run:
    """What every part of one bench-push run shares."""

    args: Any  # argparse.Namespace
    settings: Any  # server.core.config.Settings
    port: int  # the sink's plain port: pushes and its control requests
    tls_port: int | None
    cert: Any  # Path of the sink's certificate (its own CA), None without TLS
    keys: list[tuple[str, str]]  # every subscription's (p256dh, auth), sink path index = position
    kid: str  # the VAPID key's id
    pem: str  # the VAPID key's file, as pywebpush's README passes it


async def python_peers(
    run: Run, base: str, readme_n: int, async_n: int, tls: Any = True, label: str = ""
) -> tuple[Result, Result]:
    """pywebpush's README loop and webpush_async (64 in flight) to endpoints `base`/<i>."""
    sub = run.settings.vapid_subject
    readme = await measure(
        f"pywebpush README loop{label}",
        readme_n,
        lambda: run_readme_loop(base, run.keys[:readme_n], run.pem, sub),
    )
    aio = await measure(
        f"pywebpush webpush_async, 64 flying{label}",
        async_n,
        lambda: run_webpush_async(base, run.keys[:async_n], run.pem, sub, tls),
    )
    return readme, aio


def print_ratios(ours: Result, readme: Result, aio: Result, raw: Result) -> None:
    print(
        f"  vs README loop:        {ours.rate / readme.rate:5.1f}x  (goal ≥ {GOALS['readme']:g}x)"
    )
    print(f"  vs webpush_async (64): {ours.rate / aio.rate:5.1f}x  (goal ≥ {GOALS['async']:g}x)")
    print(
        f"  CPU/push: {readme.cpu_per / ours.cpu_per:4.1f}x less than the README loop, "
        f"{aio.cpu_per / ours.cpu_per:4.1f}x less than webpush_async "
        "(steadier than pushes/s on a shared machine)"
    )
    print(
        f"  CPU/push vs raw encryption ({raw.cpu_per * 1e6:.0f} µs): "
        f"{ours.cpu_per / raw.cpu_per:4.2f}x  (goal ≤ {GOALS['raw']:g}x)"
    )
