"""Retiring VAPID keys: a key no subscription uses any more is deleted (keys rotate)."""

from __future__ import annotations

from server.core.db import Database
from server.push.keys import KeyStore
from server.push.subscriptions import key_ids_in_use

RETIRE_EVERY = 3600.0


async def retire_unused(database: Database, keys: KeyStore) -> None:
    """One pass, run by the runtime every RETIRE_EVERY: retire the keys nothing uses."""
    async with database.reader() as session:
        used = await key_ids_in_use(session)
    keys.retire(used)
