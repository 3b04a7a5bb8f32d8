"""Node's `web-push` as a peer (bench/node/webpush_peer.mjs): the job file it reads and
the run of one `node` process. `make bench-push` installs it with
`npm ci --prefix bench/node` where node and npm are found; elsewhere it is skipped."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
PEER = NODE_DIR / "webpush_peer.mjs"
CONCURRENCY = 64  # in flight, as for pywebpush's webpush_async


def node_unavailable() -> str | None:
    """Why the Node peer cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "web-push").is_dir():
        return "web-push is not installed: npm ci --prefix bench/node"
    return None


def write_job(
    path: Path, base: str, keys: list[tuple[str, str]], vapid: Any, subject: str, payload: str
) -> None:
    """One push per subscription `base`/<i>; `vapid`: a server.push.keys.VapidKey, given to
    web-push as its raw base64url key pair."""
    from bench.push_peers import b64

    private = vapid.vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    job = {
        "vapid": {"subject": subject, "publicKey": vapid.public_key, "privateKey": b64(private)},
        "payload": payload,
        "ttl": 3600,
        "concurrency": CONCURRENCY,
        "subscriptions": [
            {"endpoint": f"{base}/{n}", "keys": {"p256dh": p, "auth": a}}
            for n, (p, a) in enumerate(keys)
        ],
    }
    path.write_text(json.dumps(job))


async def run_node_peer(job: Path, cert: Path, timeout: float = 600.0) -> dict[str, Any]:
    """Run the peer on `job`, trusting `cert`; its report: sent, ok, failed, seconds,
    cpu_seconds (the node process's own, for the sends), errors."""
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(cert)}
    process = await asyncio.create_subprocess_exec(
        "node",
        str(PEER),
        str(job),
        cwd=NODE_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"node peer exited {process.returncode}: {err.decode()[-2000:]}")
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report
