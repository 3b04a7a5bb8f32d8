"""The live channel's wire format: built here only, for live delivery and replay alike."""

from __future__ import annotations

from typing import Any

from server.notifications.counts import Counts
from server.notifications.schemas import NotificationOut


def notification_message(notification: Any, counts: Counts) -> dict[str, Any]:
    """`{"type": "notification", "notification": {…}, "unread", "unseen"}` for one row."""
    return {
        "type": "notification",
        "notification": NotificationOut.model_validate(notification).model_dump(mode="json"),
        "unread": counts.unread,
        "unseen": counts.unseen,
    }


def counts_message(counts: Counts) -> dict[str, Any]:
    """`{"type": "counts", "unread", "unseen"}`: a read or seen change elsewhere."""
    return {"type": "counts", "unread": counts.unread, "unseen": counts.unseen}
