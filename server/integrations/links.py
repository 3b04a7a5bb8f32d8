"""A marketplace's vendor's links lead to the marketplace (its integration's `link_base`).

Registered for server.core.links.LINK_BASES, so a push's `navigate` and an email's link
open the marketplace's page, not vendorbell's. Asked with every push queued, so each
user's answer is cached per process; it never changes (a user's integration is set when
the user is made, a link base when the integration is), so no write invalidates it.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, select

from server.accounts.models import User
from server.core.cache import CacheSpec
from server.core.unit_of_work import UnitOfWork
from server.integrations.models import Integration

# user id → the marketplace's link base, or "" for vendorbell's own account.
MARKETPLACE_LINKS: CacheSpec[str] = CacheSpec("marketplace_links", ttl_seconds=3600.0)

_LOOKUP = (
    select(User.id, Integration.link_base)
    .join(Integration, User.integration_id == Integration.id)
    .where(User.id.in_(bindparam("ids", expanding=True)))
)
_CHUNK = 500  # ids per query: well inside every driver's bound-parameter limit


async def marketplace_link_bases(uow: UnitOfWork, user_ids: Collection[int]) -> dict[int, str]:
    """The link base of each of `user_ids` that is a marketplace's vendor."""
    cache = uow.caches[MARKETPLACE_LINKS] if uow.caches is not None else None
    found: dict[int, str] = {}
    missing: list[int] = []
    for user_id in user_ids:
        hit = cache.get(user_id) if cache is not None else None
        if hit is None:
            missing.append(user_id)
        elif hit:
            found[user_id] = hit
    for start in range(0, len(missing), _CHUNK):
        chunk = missing[start : start + _CHUNK]
        generations = {user_id: cache.generation(user_id) for user_id in chunk} if cache else {}
        loaded = {
            row.id: row.link_base for row in await uow.session.execute(_LOOKUP, {"ids": chunk})
        }
        found.update(loaded)
        if cache is not None:
            for user_id in chunk:
                cache.put(user_id, loaded.get(user_id, ""), generations[user_id])
    return found
