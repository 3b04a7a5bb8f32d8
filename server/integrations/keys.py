"""Issuing, listing and revoking integration keys (the admin API and the CLI share these)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.db import utcnow
from server.core.errors import NotFound
from server.core.ids import parse_id
from server.integrations.models import Integration, IntegrationKey
from server.integrations.sealing import seal


async def issue(
    session: AsyncSession, secret_key: str, name: str, integration_id: str | None = None
) -> tuple[IntegrationKey, str]:
    """A new key and its secret (returned once; only the sealed form is stored); with
    `integration_id`, a key of that marketplace (which must exist)."""
    if integration_id is not None and await session.get(Integration, integration_id) is None:
        raise NotFound("No such integration.", code="integration_not_found")
    key_id = "ik_" + secrets.token_hex(12)
    secret = "whsec_" + secrets.token_urlsafe(32)
    key = IntegrationKey(
        key_id=key_id,
        name=name,
        secret_sealed=seal(secret_key, key_id, secret),
        integration_id=integration_id,
    )
    session.add(key)
    await session.flush()
    return key, secret


async def list_keys(session: AsyncSession) -> Sequence[IntegrationKey]:
    return (await session.scalars(select(IntegrationKey).order_by(IntegrationKey.id))).all()


async def revoke(session: AsyncSession, ref: str) -> IntegrationKey:
    """Revoke by row id or public key id; events signed with it are refused from now on."""
    key = await session.scalar(
        select(IntegrationKey).where(
            or_(IntegrationKey.key_id == ref, IntegrationKey.id == (parse_id(ref) or -1))
        )
    )
    if key is None:
        raise NotFound("No such integration key.", code="integration_key_not_found")
    key.revoked_at = key.revoked_at or utcnow()
    await session.flush()
    return key


async def active_key(session: AsyncSession, key_id: str) -> IntegrationKey | None:
    return await session.scalar(
        select(IntegrationKey).where(
            IntegrationKey.key_id == key_id, IntegrationKey.revoked_at.is_(None)
        )
    )
