"""`python -m server keys show|generate|rotate|retire` and `python -m server worker`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from sqlalchemy import func, select

from server.core.config import Settings
from server.core.db import make_database
from server.push.keys import KeyStore
from server.push.models import PushSubscription

log = logging.getLogger("vendorbell.push")


async def _key_usage(settings: Settings) -> dict[str, int]:
    database = make_database(settings)
    try:
        async with database.reader() as session:
            rows = await session.execute(
                select(PushSubscription.vapid_key_id, func.count()).group_by(
                    PushSubscription.vapid_key_id
                )
            )
            return {kid: int(n) for kid, n in rows}
    finally:
        await database.dispose()


def cmd_keys(args: argparse.Namespace, settings: Settings) -> None:
    store = KeyStore.load_or_create(settings)
    # `generate` is load_or_create itself: a key is made only when there is none.
    if args.action == "rotate":
        store.rotate()
    if args.action == "retire":
        retired = store.retire(set(asyncio.run(_key_usage(settings))))
        print(f"retired: {', '.join(retired) or 'none'}")
    usage = _safe_usage(settings)
    for kid, key in store.keys.items():
        mark = "*" if kid == store.current_kid else " "
        used = "?" if usage is None else usage.get(kid, 0)
        # Public keys only: the private PEM never leaves keys_dir.
        print(f"{mark} {kid}  subscriptions={used}  public_key={key.public_key}")


def _safe_usage(settings: Settings) -> dict[str, int] | None:
    try:
        return asyncio.run(_key_usage(settings))
    except Exception:  # no database yet: still show the keys
        return None


async def run_worker(settings: Settings) -> None:
    """Run the worker role (deliveries, digests, broadcasts, key retiring) until
    SIGTERM/SIGINT, then stop it: what a delivery worker holds is released."""
    from server.background import Runtime

    runtime = Runtime(settings, "worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    if args.lease_seconds is not None:
        settings = settings.model_copy(update={"push_lease_seconds": args.lease_seconds})
    try:  # uvloop, as `run` gets through uvicorn (installed with uvicorn[standard])
        import uvloop
    except ImportError:
        asyncio.run(run_worker(settings))
    else:
        uvloop.run(run_worker(settings))


def add_commands(commands: Any) -> None:
    """Add `keys` and `worker` to the CLI's subparsers."""
    keys = commands.add_parser("keys", help="show, generate, rotate or retire VAPID keys")
    keys.add_argument("action", choices=("show", "generate", "rotate", "retire"))
    keys.set_defaults(func=cmd_keys)
    worker = commands.add_parser("worker", help="run a push delivery worker (SIGTERM to stop)")
    worker.add_argument(
        "--lease-seconds",
        type=float,
        help="how long a claimed row stays with this worker before others may retake it",
    )
    worker.set_defaults(func=cmd_worker)
