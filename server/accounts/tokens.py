"""How long a session token lives, and the batched writes that keep a used one alive.

A token ends `token_idle_days` after it was last used or `token_absolute_days` after it
was issued, whichever comes first. Recording every use would add a write to every
request, so `last_used_at` is bumped at most once per TOUCH_EVERY per token, and not by
the request itself: a GET runs on a read-only session (SQLite), and a write there would
queue behind the write lock. Instead the bump goes to this process's TokenActivity
(started and stopped by server.background), which writes all pending bumps in one
short transaction of its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.sql.elements import ColumnElement

from server.accounts.models import ApiToken
from server.core.cache import CacheSpec
from server.core.config import Settings
from server.core.db import Database, utcnow

log = logging.getLogger("vendorbell.accounts")

# A token in use is written to at most this often; its idle lifetime is therefore
# between token_idle_days and token_idle_days plus this.
TOUCH_EVERY = timedelta(hours=1)
# Token digest → the signed-in user's public fields (id, email, name, role, locale), the
# origin an embedded session is bound to and when the token ends (Unix seconds).
# Logout and PATCH /api/me invalidate.
TokenEntry = tuple[int, str, str, str, str, str | None, float]
TOKENS: CacheSpec[TokenEntry] = CacheSpec("tokens", ttl_seconds=60.0)
# The token cache (60 s) only takes a token that lives longer than this, so a cached
# token can never outlive its expiry.
CACHE_MARGIN = timedelta(minutes=2)
_BATCH = 500


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Lifetime:
        return cls(
            idle=timedelta(days=settings.token_idle_days),
            absolute=timedelta(days=settings.token_absolute_days),
        )

    def expires_at(self, created_at: datetime, last_used_at: datetime) -> datetime:
        return min(created_at + self.absolute, last_used_at + self.idle)

    def expired(self, now: datetime) -> ColumnElement[bool]:
        """SQL: the token has expired at `now`."""
        return or_(
            ApiToken.created_at <= now - self.absolute,
            ApiToken.last_used_at <= now - self.idle,
        )


class TokenActivity:
    """Pending `last_used_at` bumps of one app, written in batches, one batch at a time."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._pending: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    def touch(self, token_id: int) -> None:
        self._pending.add(token_id)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while self._pending:
            batch = list(self._pending)[:_BATCH]
            try:
                async with self._database.writer() as session:
                    await session.execute(
                        update(ApiToken)
                        .where(ApiToken.id.in_(batch))
                        .values(last_used_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
                    await session.commit()
            except Exception:
                # A missed bump only brings that session's idle expiry closer; the
                # next use past TOUCH_EVERY tries again.
                log.warning("accounts.token_touch_failed", exc_info=True)
            finally:
                self._pending.difference_update(batch)

    async def flush(self) -> None:
        """Wait until every bump asked for so far is written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
