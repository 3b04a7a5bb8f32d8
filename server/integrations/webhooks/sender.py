"""Sending one webhook: the URL checked again, signed, POSTed once, no redirect followed.

The push services' HTTP/1.1 client (server.push.http1) does the POST: it connects only
to addresses that were checked (so a DNS answer changed after the check cannot reach a
private host), bounds every wait, and never follows a redirect (a 3xx is an answer like
any other, retried). Webhooks are checked with WEBHOOK_ALLOWED_HOSTS instead of the push
services' list: any public https host on 443, or a trusted entry (an IP literal or
localhost) on any port and address.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.config import Settings
from server.integrations import signature
from server.integrations.models import IntegrationKey
from server.integrations.registry import UnsafeWebhook, check_webhook_url
from server.integrations.sealing import unseal
from server.push.endpoints import (
    Address,
    RefusedAddress,
    UnsafeEndpoint,
    host_rule,
    is_public_address,
)
from server.push.http1 import Http1Client

TIMEOUT = 10.0  # seconds for connecting, and again for the answer
EVENT_ID_HEADER = "Vendorbell-Event-Id"
EVENT_TYPE_HEADER = "Vendorbell-Event-Type"


@dataclass(frozen=True)
class Signer:
    """The integration's newest active HMAC key, unsealed for signing."""

    key_id: str
    secret: str


async def signer_for(session: AsyncSession, integration_id: str, secret_key: str) -> Signer | None:
    key = await session.scalar(
        select(IntegrationKey)
        .where(IntegrationKey.integration_id == integration_id, IntegrationKey.revoked_at.is_(None))
        .order_by(IntegrationKey.created_at.desc(), IntegrationKey.id.desc())
        .limit(1)
    )
    if key is None:
        return None
    return Signer(key.key_id, unseal(secret_key, key.key_id, key.secret_sealed))


def headers(signer: Signer, event_id: str, type: str, body: bytes, now: float) -> dict[str, str]:
    """What every webhook request carries (docs/embedding.md, "Webhooks")."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "vendorbell-webhooks",
        signature.KEY_HEADER: signer.key_id,
        signature.SIGNATURE_HEADER: signature.header(signer.secret, int(now), body),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: type,
    }


class WebhookClient(Http1Client):
    """The push client with the webhook rules for which addresses it may connect to."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        super().__init__(settings, timeout=timeout)
        self._allowed = [h.lower() for h in settings.webhook_allowed_hosts]

    async def send(self, url: str, request_headers: dict[str, str], body: bytes) -> int:
        """POST once; the answer's status. RefusedAddress when the URL may not be reached,
        OSError/TimeoutError when it could not be."""
        try:
            check_webhook_url(url, self.settings)
        except UnsafeWebhook as exc:
            raise RefusedAddress(UnsafeEndpoint(exc.detail, "webhook_url_refused")) from exc
        status, _, _ = await self.post(url, request_headers, body)
        return status

    async def _addresses(self, host: str, port: int) -> list[Address]:
        # Overrides the push services' lookup (resolve_checked reads PUSH_ALLOWED_HOSTS).
        trusted = host_rule(host.lower(), self._allowed) == "trusted"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (UnicodeError, OSError, TimeoutError) as exc:
            raise OSError(f"{host} does not resolve") from exc
        found = [Address(str(i[4][0]), int(i[4][1]), i[0], i[2]) for i in infos]
        if not found:
            raise OSError(f"{host} does not resolve")
        if not trusted and not all(is_public_address(a.host) for a in found):
            raise RefusedAddress(
                UnsafeEndpoint(f"{host} resolves to a private address.", "endpoint_private_address")
            )
        return found


def now() -> float:
    return time.time()
