"""Integrations (marketplaces that embed vendorbell): created, listed and read by the
admin API and the CLI; their allowed origins, link base and webhook checked here.

An origin is kept as browsers send it in `Origin` (lower case, no default port, no
path), so that a request's header is compared to it as a plain string. Every origin
some integration allows is cached per process (CORS answers read it on each request)
and invalidated when an integration changes; the TTL bounds what a change made by
another process without Redis (the CLI) leaves behind.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from typing import Final, get_args
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.cache import CacheSpec
from server.core.config import Settings
from server.core.errors import Invalid, NotFound
from server.core.unit_of_work import UnitOfWork
from server.integrations.models import Integration
from server.integrations.schemas import WebhookEvent
from server.push.endpoints import UnsafeEndpoint, host_rule, is_public_address, parse_push_url

# The events a webhook may ask for: the API's own list (IntegrationIn.webhook_events).
WEBHOOK_EVENTS: Final = get_args(WebhookEvent)
# Every origin some integration allows (one key): what CORS answers and sign-in accept.
EMBED_ORIGINS: CacheSpec[frozenset[str]] = CacheSpec("embed_origins", ttl_seconds=30.0)
ALL: Final = "all"
MAX_ORIGINS = 20
RESOLVE_TIMEOUT = 5.0  # seconds for the webhook host's DNS answer


class IntegrationNotFound(NotFound):
    code = "integration_not_found"


class InvalidOrigin(Invalid):
    code = "invalid_origin"


class UnsafeWebhook(Invalid):
    code = "webhook_url_refused"


def normalize_origin(value: str) -> str:
    """`scheme://host[:port]` as a browser serializes it, or InvalidOrigin."""
    parts = urlsplit(value.strip()) if len(value) <= 300 and value.isascii() else None
    try:
        port = parts.port if parts else None
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("",)
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in value)
    ):
        raise InvalidOrigin(
            f"{value!r} is not an origin: give exactly scheme://host[:port] "
            "(http or https, no path), e.g. https://shop.example."
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def normalize_origins(values: Sequence[str]) -> list[str]:
    origins = list(dict.fromkeys(normalize_origin(v) for v in values))
    if not origins or len(origins) > MAX_ORIGINS:
        raise InvalidOrigin(f"Give between 1 and {MAX_ORIGINS} allowed origins.")
    return origins


def check_webhook_url(url: str, settings: Settings) -> str:
    """The push endpoints' rules (server.push.endpoints) with WEBHOOK_ALLOWED_HOSTS: a
    plain https URL on 443 of a public host; a trusted entry (an IP literal or localhost)
    may use http, any port and a private address. Checked without DNS here."""
    try:
        if "@" in url.partition("://")[2].partition("/")[0]:
            raise UnsafeEndpoint("A webhook URL may not carry credentials.", "endpoint_userinfo")
        parsed = parse_push_url(url)
    except UnsafeEndpoint as exc:
        raise UnsafeWebhook(exc.detail.replace("push endpoint", "webhook URL")) from None
    allowed = [h.lower() for h in settings.webhook_allowed_hosts]
    rule = host_rule(parsed.host, allowed)
    if rule == "trusted":
        return url
    if allowed and rule is None:
        raise UnsafeWebhook(
            f"{parsed.host} is not an allowed webhook host (WEBHOOK_ALLOWED_HOSTS)."
        )
    if parsed.scheme != "https" or parsed.port != 443:
        raise UnsafeWebhook("A webhook URL must be https on port 443.")
    if parsed.host == "localhost" or parsed.host.endswith(".localhost"):
        raise UnsafeWebhook("A webhook URL may not point at this machine.")
    try:
        literal = ipaddress.ip_address(parsed.host)
    except ValueError:
        return url
    if not is_public_address(str(literal)):
        raise UnsafeWebhook("A webhook URL may not point at a private address.")
    return url


async def check_webhook_resolves(url: str, settings: Settings) -> None:
    """A named host must resolve to public addresses only (unless trusted)."""
    parsed = parse_push_url(url)
    if host_rule(parsed.host, [h.lower() for h in settings.webhook_allowed_hosts]) == "trusted":
        return
    try:
        ipaddress.ip_address(parsed.host)
        return  # checked by check_webhook_url
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(parsed.host, parsed.port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, UnicodeError, TimeoutError):
        raise UnsafeWebhook(f"{parsed.host} does not resolve.") from None
    if not infos or not all(is_public_address(str(info[4][0])) for info in infos):
        raise UnsafeWebhook(f"{parsed.host} resolves to a private address.")


def check_webhook_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown:
        raise Invalid(
            f"Unknown webhook event types: {', '.join(unknown)}.", code="unknown_webhook_event"
        )
    return list(dict.fromkeys(events))


async def create(
    uow: UnitOfWork,
    *,
    name: str,
    origins: Sequence[str],
    link_base: str,
    webhook_url: str | None = None,
    webhook_events: Sequence[str] = (),
) -> Integration:
    """A new integration with a random id (the `iss` its tokens carry)."""
    settings = uow.settings
    if webhook_url is not None:
        check_webhook_url(webhook_url, settings)
        await check_webhook_resolves(webhook_url, settings)
    integration = Integration(
        id="int_" + secrets.token_urlsafe(12),
        name=name,
        allowed_origins=normalize_origins(origins),
        link_base=normalize_origin(link_base),
        webhook_url=webhook_url,
        webhook_events=check_webhook_events(webhook_events),
    )
    uow.session.add(integration)
    await uow.session.flush()
    origins_changed(uow)
    return integration


def origins_changed(uow: UnitOfWork) -> None:
    """After commit no process serves the old set of allowed origins."""
    if uow.caches is not None:
        uow.caches[EMBED_ORIGINS].invalidate(ALL)
        uow.invalidate_after_commit(uow.caches[EMBED_ORIGINS], ALL)


async def get(session: AsyncSession, integration_id: str) -> Integration:
    # An id is printable ASCII; PostgreSQL refuses a NUL in text (a 500, not a 404).
    if not (integration_id.isascii() and integration_id.isprintable()):
        raise IntegrationNotFound("No such integration.")
    found = await session.get(Integration, integration_id[:40])
    if found is None:
        raise IntegrationNotFound("No such integration.")
    return found


async def list_all(session: AsyncSession) -> Sequence[Integration]:
    return (await session.scalars(select(Integration).order_by(Integration.created_at))).all()


async def _load_origins(session: AsyncSession) -> frozenset[str]:
    rows = await session.scalars(select(Integration.allowed_origins))
    return frozenset(origin for origins in rows for origin in origins)


async def allowed_origins(uow: UnitOfWork) -> frozenset[str]:
    """Every origin some integration allows, from this process's cache when it is on."""
    if uow.caches is None:
        return await _load_origins(uow.session)
    return await uow.caches[EMBED_ORIGINS].get_or_load(ALL, lambda: _load_origins(uow.session))
