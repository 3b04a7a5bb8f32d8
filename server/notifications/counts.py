"""The inbox counts of one user: what the badge, the list and the live channel show."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Counts:
    unread: int
    unseen: int
    by_type: dict[str, int] = field(default_factory=dict)
