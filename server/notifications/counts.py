"""The inbox counts of one user: what the badge, the list and the live channel show."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.core.cache import CacheSpec


@dataclass
class Counts:
    unread: int
    unseen: int
    by_type: dict[str, int] = field(default_factory=dict)


# User id → inbox counts. Every committed read/seen change or new notification
# invalidates; the TTL only bounds what a write outside those paths could leave.
COUNTS: CacheSpec[Counts] = CacheSpec("counts", ttl_seconds=30.0)
