"""The order state machine: which status may follow which, and who may move it."""

from __future__ import annotations

STATUSES = ("pending", "accepted", "rejected", "preparing", "shipped", "delivered", "cancelled")

# status -> {next status: roles allowed to make that move}
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "pending": {
        "accepted": frozenset({"vendor"}),
        "rejected": frozenset({"vendor"}),
        "cancelled": frozenset({"vendor", "customer"}),
    },
    "accepted": {"preparing": frozenset({"vendor"}), "cancelled": frozenset({"vendor"})},
    "preparing": {"shipped": frozenset({"vendor"}), "cancelled": frozenset({"vendor"})},
    "shipped": {"delivered": frozenset({"vendor"})},
    "rejected": {},
    "delivered": {},
    "cancelled": {},
}

CLOSED = frozenset({"rejected", "cancelled"})


def allowed_next(status: str, party: str) -> list[str]:
    """The statuses `party` ("vendor" or "customer") may move an order in `status` to."""
    return [nxt for nxt, parties in TRANSITIONS.get(status, {}).items() if party in parties]


def can_move(status: str, new_status: str, party: str) -> bool:
    return party in TRANSITIONS.get(status, {}).get(new_status, frozenset())
