"""The console's view of the integrations: each marketplace's origins, link base,
embed keys, HMAC keys, and how its webhook is doing, from the rows the service keeps.

A query per kind over all integrations (there are a handful), and the newest
RECENT deliveries per integration, read through the (integration_id) index.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.console.keys_schemas import (
    ConsoleEmbedKeyOut,
    ConsoleHmacKeyOut,
    IntegrationOverviewOut,
    WebhookDeliveryOut,
    WebhookHealthOut,
)
from server.core.db import utcnow
from server.integrations.models import EmbedKey, Integration, IntegrationKey
from server.integrations.webhooks.models import WebhookDelivery

RECENT = 5  # deliveries shown per integration
FAILURE_WINDOW = timedelta(hours=24)


async def _webhook(session: AsyncSession, integration: Integration) -> WebhookHealthOut:
    t = WebhookDelivery
    mine = t.integration_id == integration.id
    recent = list(await session.scalars(select(t).where(mine).order_by(t.id.desc()).limit(RECENT)))
    # The newest row a worker has answered for: its status or its error.
    last = await session.scalar(
        select(t)
        .where(mine, or_(t.last_status.is_not(None), t.error.is_not(None)))
        .order_by(t.id.desc())
        .limit(1)
    )
    queued = await session.scalar(select(func.count()).where(mine, t.status == "queued"))
    failed = await session.scalar(
        select(func.count()).where(
            mine, t.status == "failed", t.created_at >= utcnow() - FAILURE_WINDOW
        )
    )
    return WebhookHealthOut(
        url=integration.webhook_url,
        events=list(integration.webhook_events),
        last_status=last.last_status if last else None,
        last_error=last.error if last else None,
        last_attempt_id=str(last.id) if last else None,
        queued=int(queued or 0),
        failures_last_day=int(failed or 0),
        recent=[WebhookDeliveryOut.model_validate(row) for row in recent],
    )


async def overview(session: AsyncSession) -> list[IntegrationOverviewOut]:
    integrations = list(
        await session.scalars(select(Integration).order_by(Integration.created_at, Integration.id))
    )
    embed: dict[str, list[ConsoleEmbedKeyOut]] = defaultdict(list)
    for key in await session.scalars(select(EmbedKey).order_by(EmbedKey.id)):
        embed[key.integration_id].append(ConsoleEmbedKeyOut.model_validate(key))
    hmac: dict[str, list[ConsoleHmacKeyOut]] = defaultdict(list)
    found = await session.scalars(
        select(IntegrationKey)
        .where(IntegrationKey.integration_id.is_not(None))
        .order_by(IntegrationKey.id)
    )
    for hkey in found:
        assert hkey.integration_id is not None
        hmac[hkey.integration_id].append(ConsoleHmacKeyOut.model_validate(hkey))
    return [
        IntegrationOverviewOut(
            id=i.id,
            name=i.name,
            allowed_origins=list(i.allowed_origins),
            link_base=i.link_base,
            created_at=i.created_at,
            embed_keys=embed[i.id],
            hmac_keys=hmac[i.id],
            webhook=await _webhook(session, i),
        )
        for i in integrations
    ]
