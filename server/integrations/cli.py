"""`python -m server integration-key|integration|embed-key …` (wired in server.__main__)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from server.core.config import Settings
from server.core.db import make_database
from server.core.errors import AppError
from server.core.signals import Signals
from server.core.unit_of_work import Shared, UnitOfWorkFactory
from server.integrations import embed_keys, keys, registry
from server.integrations.secret_key import SecretKeyMissing, checked_secret_key


async def run(settings: Settings, args: argparse.Namespace) -> list[str]:
    database = make_database(settings)
    try:
        async with database.writer() as session:
            if args.action == "create":
                secret_key = await checked_secret_key(settings, database, strict=True)
                key, secret = await keys.issue(
                    session, secret_key, args.name, getattr(args, "integration", None)
                )
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
                    f"{k.key_id}  {k.name!r}  integration={k.integration_id or '-'}  "
                    f"created={k.created_at:%Y-%m-%d}  "
                    f"{'revoked' if k.revoked_at else 'active'}  last_used={k.last_used_at or '-'}"
                    for k in await keys.list_keys(session)
                ] or ["no integration keys"]
            await session.commit()
            return lines
    finally:
        await database.dispose()


def cmd_integration_key(args: argparse.Namespace, settings: Settings) -> None:
    _print(run(settings, args))


async def _integration(units: UnitOfWorkFactory, args: argparse.Namespace) -> list[str]:
    async with units.writer() as uow:
        if args.action == "create":
            found = await registry.create(
                uow, name=args.name, origins=args.origin, link_base=args.link_base
            )
            lines = [f"id: {found.id}"]
        elif args.action == "show":
            found = await registry.get(uow.session, args.id)
            lines = [
                f"id: {found.id}",
                f"name: {found.name}",
                f"origins: {' '.join(found.allowed_origins)}",
                f"link base: {found.link_base}",
                *(
                    f"key {k.kid} {k.alg} {'retired' if k.retired_at else 'active'}"
                    for k in await embed_keys.list_keys(uow.session, found.id)
                ),
            ]
        else:
            lines = [
                f"{i.id}  {i.name!r}  {' '.join(i.allowed_origins)}"
                for i in await registry.list_all(uow.session)
            ] or ["no integrations"]
        await uow.commit()
    return lines


async def _embed_key(units: UnitOfWorkFactory, args: argparse.Namespace) -> list[str]:
    async with units.writer() as uow:
        integration = await registry.get(uow.session, args.integration)
        if args.action == "add":
            key = await embed_keys.add(uow.session, integration.id, args.public_key_pem, args.kid)
            lines = [f"kid: {key.kid}", f"alg: {key.alg}"]
        elif args.action == "generate":
            key, private_pem = await embed_keys.generate(uow.session, integration.id, args.alg)
            lines = [f"kid: {key.kid}", private_pem.rstrip("\n")]
        else:
            key = await embed_keys.retire(uow.session, integration.id, args.kid)
            lines = [f"retired {key.kid}"]
        await uow.commit()
    return lines


class _NoLiveChannel:
    """The CLI serves no socket: nothing to publish to, no session to close here."""

    async def publish(self, user_id: int, message: dict[str, Any]) -> None:
        return None

    async def end_sessions(self, user_id: int, token_digest: str) -> None:
        return None


async def _with_units(
    settings: Settings,
    args: argparse.Namespace,
    action: Callable[[UnitOfWorkFactory, argparse.Namespace], Awaitable[list[str]]],
) -> list[str]:
    database = make_database(settings)
    try:
        units = UnitOfWorkFactory(
            database, Shared(settings, caches=None, hub=_NoLiveChannel(), signals=Signals())
        )
        return await action(units, args)
    finally:
        await database.dispose()


def _print(work: Coroutine[Any, Any, list[str]]) -> None:
    """Run a command's work and print its lines; what refuses it is one `error:` line."""
    try:
        lines = asyncio.run(work)
    except SecretKeyMissing as exc:  # only issuing a key needs the sealing key strictly
        raise SystemExit(f"error: {exc} No key was issued.") from None
    except AppError as exc:
        raise SystemExit(f"error: {exc.detail}") from None
    except OSError as exc:
        raise SystemExit(f"error: {exc}") from None
    for line in lines:
        print(line)


def cmd_integration(args: argparse.Namespace, settings: Settings) -> None:
    """Changes made here reach running servers' CORS answers within 30 s (their cache)."""
    _print(_with_units(settings, args, _integration))


def cmd_embed_key(args: argparse.Namespace, settings: Settings) -> None:
    if args.action == "add":
        try:
            args.public_key_pem = Path(args.public_key).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise SystemExit(f"error: cannot read {args.public_key}: {exc}") from None
    _print(_with_units(settings, args, _embed_key))
