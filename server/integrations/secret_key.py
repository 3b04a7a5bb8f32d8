"""The generated secret key, never made anew over a database that used another one.

Session-token digests and sealed integration secrets are made with SECRET_KEY (or the
key generated into DATA_DIR/secret_key). A command started without the server's
DATA_DIR would make a second key, and what it then sealed the server refuses for
ever ("This key must be re-issued"); a server moved to a new DATA_DIR without its key
signs everyone out. So a key made while the database already holds digests is said
loudly, and a command refuses to seal with it.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from server.accounts.models import ApiToken
from server.core.config import Settings
from server.core.db import Database
from server.integrations.models import IntegrationKey

log = logging.getLogger("vendorbell.secret_key")


class SecretKeyMissing(Exception):
    """The database holds digests made with a secret key this process does not have."""


async def _digests_held(database: Database) -> tuple[int, int]:
    """(session tokens, active integration keys) in the database; (0, 0) before it is
    migrated."""
    try:
        async with database.reader() as session:
            tokens = await session.scalar(select(func.count()).select_from(ApiToken))
            keys = await session.scalar(
                select(func.count())
                .select_from(IntegrationKey)
                .where(IntegrationKey.revoked_at.is_(None))
            )
    except DBAPIError:  # no such table yet
        return 0, 0
    return int(tokens or 0), int(keys or 0)


def _explain(settings: Settings, tokens: int, keys: int) -> str:
    return (
        f"No secret key at {settings.secret_key_file} and SECRET_KEY is unset, but the "
        f"database already holds {tokens} session tokens and {keys} integration keys made "
        "with another secret key. Run this with the server's settings (the same DATA_DIR "
        "or SECRET_KEY; .env is read from the repository and the current folder)."
    )


async def checked_secret_key(settings: Settings, database: Database, *, strict: bool) -> str:
    """The secret key, made if there is none yet. If the database holds digests made
    with another, say so as an error; `strict` refuses instead (SecretKeyMissing),
    making no key."""
    if settings.secret_key or settings.secret_key_file.exists():
        return settings.resolved_secret_key()
    tokens, keys = await _digests_held(database)
    if tokens or keys:
        message = _explain(settings, tokens, keys)
        if strict:
            raise SecretKeyMissing(message)
        log.error("secret_key.mismatch", extra={"tokens": tokens, "integration_keys": keys})
        log.error(message)
    return settings.resolved_secret_key()
