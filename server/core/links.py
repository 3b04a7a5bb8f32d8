"""Where a user's links lead: vendorbell's own pages (PUBLIC_URL), or, for a marketplace's
vendor, the marketplace's pages (its integration's link base).

A notification's `url` is a path ("/orders/12"); the push's `navigate` and an email's
link are absolute. The integrations feature, above everything that sends, registers
`LINK_BASES` (server.background): senders ask here and never learn of marketplaces.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from server.core.hooks import Hook
from server.core.unit_of_work import UnitOfWork

# The link base of each of the users that has one of its own (the others are left out).
LinkBases = Callable[[UnitOfWork, Collection[int]], Awaitable[dict[int, str]]]
LINK_BASES: Hook[LinkBases] = Hook("link bases")


async def link_bases(uow: UnitOfWork, user_ids: Collection[int]) -> dict[int, str]:
    """Every user's link base: their marketplace's, or this server's PUBLIC_URL."""
    found: dict[int, str] = {}
    for lookup in uow.hooks.each(LINK_BASES) if user_ids else ():
        found.update(await lookup(uow, user_ids))
    public_url = uow.settings.public_url
    return {user_id: found.get(user_id, public_url) for user_id in user_ids}


async def link_base(uow: UnitOfWork, user_id: int) -> str:
    return (await link_bases(uow, (user_id,)))[user_id]


def absolute(base: str, path: str) -> str:
    """`path` (a notification's url, always "/…") under `base`."""
    return base.rstrip("/") + path
