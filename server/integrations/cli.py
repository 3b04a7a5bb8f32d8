"""`python -m server integration-key create|list|revoke` (wired in server.__main__)."""

from __future__ import annotations

import argparse
import asyncio

from server.core.config import Settings
from server.core.db import make_database
from server.integrations import keys
from server.integrations.secret_key import SecretKeyMissing, checked_secret_key


async def run(settings: Settings, args: argparse.Namespace) -> list[str]:
    database = make_database(settings)
    try:
        async with database.writer() as session:
            if args.action == "create":
                secret_key = await checked_secret_key(settings, database, strict=True)
                key, secret = await keys.issue(session, secret_key, args.name)
                lines = [
                    f"key id:  {key.key_id}",
                    f"secret:  {secret}",
                    "Store the secret now: it is not shown again.",
                ]
            elif args.action == "revoke":
                key = await keys.revoke(session, args.key)
                lines = [f"revoked {key.key_id}"]
            else:
                lines = [
                    f"{k.key_id}  {k.name!r}  created={k.created_at:%Y-%m-%d}  "
                    f"{'revoked' if k.revoked_at else 'active'}  last_used={k.last_used_at or '-'}"
                    for k in await keys.list_keys(session)
                ] or ["no integration keys"]
            await session.commit()
            return lines
    finally:
        await database.dispose()


def cmd_integration_key(args: argparse.Namespace, settings: Settings) -> None:
    try:
        lines = asyncio.run(run(settings, args))
    except SecretKeyMissing as exc:
        raise SystemExit(f"error: {exc} No key was issued.") from None
    for line in lines:
        print(line)
