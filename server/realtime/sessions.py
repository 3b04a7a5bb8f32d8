"""Whether the tokens open sockets were opened with still sign someone in.

A logout closes its sockets everywhere through the hub (`Hub.end_sessions`), but that
message travels over Redis and can be lost (a process without Redis, an outage), and
nothing at all is sent when a token simply expires. So the hub asks this check about
each socket's token once per ping interval; a token deleted or past its idle or
absolute lifetime ends its sockets with 4401.

One read per token, shared by the token's sockets (the tabs of one browser share the
cookie) and by the sockets of one keepalive slice (one `IN` query): a token's expiry is
cached for less than a ping interval, so a logout is seen within about one interval.
Deliberately not the token cache of server.core.cache: that one may serve a value for 60 s
after a logout whose invalidation was lost. A check is not a use of the token: an open
tab nobody touches still reaches its idle expiry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from server.accounts.models import ApiToken
from server.accounts.tokens import Lifetime
from server.core.cache import GenerationalCache
from server.core.db import Database, utcnow

# A check that takes longer is abandoned: its sockets stay open until the next one.
CHECK_TIMEOUT = 5.0


class TokenCheck:
    """`ended(digests)`: which of these token digests no longer sign anyone in."""

    def __init__(self, database: Database, lifetime: Lifetime, *, fresh_seconds: float) -> None:
        self._database = database
        self._lifetime = lifetime
        # Token digest → when the token expires, as last read.
        self._expiry: GenerationalCache[datetime] = GenerationalCache(
            "socket-tokens", ttl_seconds=fresh_seconds
        )

    async def ended(self, digests: Collection[str]) -> set[str]:
        now = utcnow()
        unknown = []
        for digest in digests:
            expires_at = self._expiry.get(digest)
            # An expiry in the past is read again: a request may have moved it on since.
            if expires_at is None or expires_at <= now:
                unknown.append(digest)
        if not unknown:
            return set()
        read_at = time.monotonic()
        async with asyncio.timeout(CHECK_TIMEOUT), self._database.reader() as session:
            rows = (
                await session.execute(
                    select(
                        ApiToken.token_hash,
                        ApiToken.created_at,
                        ApiToken.last_used_at,
                        ApiToken.expires_at,
                    ).where(ApiToken.token_hash.in_(unknown))
                )
            ).all()
        live = set()
        for digest, created_at, last_used_at, absolute_end in rows:
            expires_at = self._lifetime.expires_at(created_at, last_used_at)
            if absolute_end is not None:  # an embedded session: renewed, or over at its end
                expires_at = min(expires_at, absolute_end)
            if expires_at > now:
                live.add(digest)
                self._expiry.put(
                    digest, expires_at, self._expiry.generation(digest), read_at=read_at
                )
        return set(unknown) - live
