"""bench-push over TLS: the sink's https listener (a self-signed certificate made at the
start of the run, trusted by every client through its own setting: vendorbell's
Http1Client `tls=` context, REQUESTS_CA_BUNDLE for pywebpush's README loop, an aiohttp
SSL context for `webpush_async`, NODE_EXTRA_CA_CERTS for Node's web-push), and every
push the sink received checked after each timed run (bench.push_verify). A contender's
pushes/s count only the pushes that decrypted and verified.
"""

from __future__ import annotations

import os
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.node_peer import node_unavailable, run_node_peer, write_job
from bench.push_peers import (
    GOALS,
    PEER_DATA,
    Result,
    Run,
    measure,
    print_ratios,
    run_raw,
    run_readme_loop,
    run_webpush_async,
)
from bench.push_sink import sink_reset, sink_verify
from bench.push_vendorbell import run_vendorbell, seed_fanout


@dataclass(frozen=True)
class TlsSizes:
    vendorbell: int
    readme: int  # one TLS handshake per push: the README loop opens a connection each time
    async_n: int
    node: int

    @property
    def most(self) -> int:
        return max(self.vendorbell, self.readme, self.async_n, self.node)


def tls_sizes(args: Any) -> TlsSizes:
    if args.mode == "plain":
        return TlsSizes(0, 0, 0, 0)
    return TlsSizes(args.tls_subscriptions, args.tls_readme, args.tls_async, args.tls_node)


async def tls_part(run: Run, raw: Result | None) -> None:
    assert run.cert is not None and run.tls_port is not None
    sizes = tls_sizes(run.args)
    base = f"https://127.0.0.1:{run.tls_port}/t"
    trust = ssl.create_default_context(cafile=str(run.cert))
    print("\nTLS (every push checked by the sink after each timed run):", flush=True)
    await sink_reset(run.port)
    ours, handshakes = await tls_vendorbell(run, base, trust, sizes.vendorbell)
    sub = run.settings.vapid_subject
    os.environ["REQUESTS_CA_BUNDLE"] = str(run.cert)  # what requests (pywebpush) trusts
    readme = await checked(
        run,
        await measure(
            "pywebpush README loop, TLS",
            sizes.readme,
            lambda: run_readme_loop(base, run.keys[: sizes.readme], run.pem, sub),
        ),
    )
    aio = await checked(
        run,
        await measure(
            "pywebpush webpush_async, 64, TLS",
            sizes.async_n,
            lambda: run_webpush_async(base, run.keys[: sizes.async_n], run.pem, sub, trust),
        ),
    )
    node = await node_part(run, base, sizes.node)
    if raw is None:
        some = run.keys[: run.args.raw]
        raw = await measure("raw RFC 8291 (cryptography)", len(some), lambda: run_raw(some))
    print()
    print(
        f"vendorbell over TLS: {ours.rate:.0f} pushes/s, {ours.cpu_per * 1e6:.0f} µs CPU/push, "
        f"{handshakes} TLS connections for {ours.n} pushes (kept alive)"
    )
    if ours.n and readme.n and aio.n:
        print_ratios(ours, readme, aio, raw)
    if node is not None and node.n and ours.n:
        print(
            f"  vs Node web-push (64): {ours.rate / node.rate:5.1f}x  (goal ≥ {GOALS['node']:g}x);"
            f" CPU/push {node.cpu_per / ours.cpu_per:4.1f}x less"
        )


async def tls_vendorbell(run: Run, base: str, trust: ssl.SSLContext, n: int) -> tuple[Result, int]:
    """The delivery worker with the service's own client, given the sink's CA; returns its
    result and how many connections (so TLS handshakes) the client made."""
    from server.push.http1 import Http1Client

    settings = run.settings
    await seed_fanout(settings, base, run.keys[:n], run.kid, "t")
    client = Http1Client(settings, timeout=settings.push_send_timeout, tls=trust)
    result = await measure("vendorbell worker, TLS", n, lambda: run_vendorbell(settings, n, client))
    return await checked(run, result), client.connections_made


async def checked(run: Run, result: Result) -> Result:
    """`result` counting only the pushes the sink decrypted and verified; prints the check."""
    started = time.perf_counter()
    summary = await sink_verify(run.port)
    took = time.perf_counter() - started
    missing = result.n - summary["checked"]
    line = f"    checked by the sink in {took:.1f} s: {summary['verified']} verified"
    if summary["failed"] or missing:
        line += f", {summary['failed']} FAILED {summary['reasons']}, {missing} not received"
    print(line, flush=True)
    return Result(result.name, summary["verified"], result.wall, result.cpu)


async def node_part(run: Run, base: str, n: int) -> Result | None:
    from server.push.keys import KeyStore

    reason = node_unavailable()
    if reason is not None:
        print(f"  Node web-push peer skipped: {reason}", flush=True)
        return None
    job = Path(run.settings.keys_dir).parent / "node-job.json"
    vapid = KeyStore.load_or_create(run.settings).current
    write_job(job, base, run.keys[:n], vapid, run.settings.vapid_subject, PEER_DATA)
    assert run.cert is not None
    try:
        report = await run_node_peer(job, run.cert)
    except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
        print(f"  Node web-push peer failed, left out: {exc!r}", flush=True)
        return None
    result = Result("Node web-push, 64, TLS", n, report["seconds"], report["cpu_seconds"])
    print(
        f"  {result.name:<34} {n:>6} pushes  {result.rate:>8.0f}/s  "
        f"{result.cpu_per * 1e6:>6.0f} µs CPU/push (node's own, process.cpuUsage)"
        + (f"; {report['failed']} errors: {report['errors']}" if report["failed"] else ""),
        flush=True,
    )
    return await checked(run, result)
