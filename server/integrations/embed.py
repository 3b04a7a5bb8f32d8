"""Signing a marketplace's vendor in on the marketplace's own page (`POST /api/embed/session`).

The page's backend signs a short JWT (server.integrations.embed_tokens); the page sends
it from its Origin and gets a bearer session of its own: at most EMBED_SESSION_SECONDS,
never renewed (the page asks its marketplace for a new JWT), and bound to that Origin
(server.accounts.service refuses it from any other). Each token signs in once, in
whichever process sees it first: its `jti` is written under a primary key, so a second
use fails on the constraint whatever the process (PostgreSQL or SQLite alike).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from server.accounts.models import User
from server.accounts.service import issue_token
from server.core.db import utcnow
from server.core.errors import Forbidden
from server.core.unit_of_work import UnitOfWork
from server.integrations import embed_tokens, registry, vendors
from server.integrations.models import EmbedTokenUse
from server.notifications.counts import Counts
from server.notifications.inbox import cached_counts

log = logging.getLogger("vendorbell.integrations")


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"


@dataclass(frozen=True)
class EmbedSession:
    token: str
    expires_at: datetime
    user: User
    counts: Counts


async def check_origin(uow: UnitOfWork, origin: str | None) -> str:
    """The request's Origin when some integration allows it, else a 403."""
    if origin is None or origin not in await registry.allowed_origins(uow):
        raise OriginNotAllowed("This page's origin is not registered for any integration.")
    return origin


async def spend(uow: UnitOfWork, sign_in: embed_tokens.SignIn) -> None:
    """Record the token's jti (and forget expired ones); a second use is a replay."""
    session = uow.session
    await session.execute(delete(EmbedTokenUse).where(EmbedTokenUse.expires_at < utcnow()))
    digest = hashlib.sha256(sign_in.jti.encode()).hexdigest()
    use = EmbedTokenUse(
        integration_id=sign_in.integration_id, jti_sha256=digest, expires_at=sign_in.expires_at
    )
    try:
        async with session.begin_nested():
            session.add(use)
            await session.flush()
    except IntegrityError:
        raise embed_tokens.refused(
            "This token was used already: sign a new one for each page.", "token_replayed"
        ) from None


async def start_session(
    uow: UnitOfWork,
    secret_key: str,
    token: str,
    origin: str | None,
    *,
    user_agent: str | None = None,
    client_address: str | None = None,
) -> EmbedSession:
    """Exchange the marketplace's token, sent from `origin`, for a session of its vendor.

    Who before where: no token at all is a 401, then an origin no integration registered
    a 403 before the token is read, then the token's own refusals (401)."""
    if not token:
        raise embed_tokens.refused("Send the marketplace's token as Authorization: Bearer <token>.")
    origin = await check_origin(uow, origin)
    settings = uow.settings
    sign_in = await embed_tokens.verify(uow.session, token, settings.public_url)
    integration = await registry.get(uow.session, sign_in.integration_id)
    if origin not in integration.allowed_origins:
        raise OriginNotAllowed("This page's origin is not one of the integration's.")
    await spend(uow, sign_in)
    user, created = await vendors.find_or_create(uow, integration.id, sign_in.sub)
    if user.disabled_at is not None:
        raise vendors.VendorDisabled("The marketplace has disabled this vendor.")
    await vendors.apply_profile(uow, user, sign_in.profile)
    sign_in.key.last_used_at = utcnow()
    expires_at = utcnow() + timedelta(seconds=settings.embed_session_seconds)
    session_token = await issue_token(
        uow.session,
        user,
        secret_key,
        user_agent=user_agent,
        client_address=client_address,
        origin=origin,
        expires_at=expires_at,
    )
    log.info(
        "integrations.embed.session",
        extra={"integration": integration.id, "user_id": user.id, "first_sight": created},
    )
    counts = await cached_counts(uow, user.id)
    return EmbedSession(session_token, expires_at, user, counts)
