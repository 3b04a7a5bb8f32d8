"""`python -m server keys show|generate|rotate|retire`: the VAPID keys and their use
(the command is wired in server.__main__)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from server.core.config import Settings
from server.core.db import make_database
from server.push.keys import KeyStore
from server.push.subscriptions import key_usage

log = logging.getLogger("vendorbell.push")


async def _key_usage(settings: Settings) -> dict[str, int]:
    database = make_database(settings)
    try:
        async with database.reader() as session:
            return await key_usage(session)
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
