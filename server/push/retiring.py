"""Retiring VAPID keys: a key no subscription uses any more is deleted (keys rotate)."""

from __future__ import annotations

import asyncio
import logging

from server.core.db import Database
from server.push.keys import KeyStore
from server.push.subscriptions import key_ids_in_use

log = logging.getLogger("vendorbell.push")

RETIRE_EVERY = 3600.0


async def run_retire_loop(database: Database, keys: KeyStore, every: float = RETIRE_EVERY) -> None:
    """Forever: retire the keys nothing uses, then wait. Errors are logged, never fatal."""
    while True:
        try:
            async with database.reader() as session:
                used = await key_ids_in_use(session)
            keys.retire(used)
        except Exception:
            log.exception("push.keys.retire_failed")
        await asyncio.sleep(every)
