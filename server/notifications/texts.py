"""What the notifications this package writes itself say, in the recipient's language
(an order's wording is the order's: server.orders.texts)."""

from __future__ import annotations

from server.core.languages import Language


def push_test(lang: Language) -> tuple[str, str]:
    """The notification POST /api/push/test sends to each of the caller's devices."""
    return (
        lang.gettext("Test notification"),
        lang.gettext("Push notifications work on this device."),
    )
