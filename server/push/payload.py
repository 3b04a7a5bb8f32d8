"""The Declarative Web Push message for a notification, and its delivery headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

# RFC 8030 §5.2 TTL in seconds: a new order is worth ringing for a day later,
# a system notice is stale within the hour.
TTL_BY_TYPE = {"order": 24 * 3600, "payment": 24 * 3600, "message": 6 * 3600, "system": 3600}
# RFC 8030 §5.3. `high` for new orders: mobile push services (and iOS in
# particular) delay or batch normal-urgency messages on devices in power saving.
URGENT_EVENTS = {"order.created"}
# RFC 8030 §5.4 limit: a record size of 4096 bytes, including the 86-byte header
# (salt 16 + rs 4 + idlen 1 + key 65), the 16-byte AEAD tag and the padding delimiter.
MAX_PLAINTEXT = 4096 - 86 - 16 - 1


class PushSource(Protocol):
    """What a push is rendered from: a notification row, or a fan-out's plain record of
    one (server.notifications.fanout), which costs a fraction of an ORM object."""

    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PushMessage:
    payload: str
    ttl: int
    urgency: str
    topic: str | None


def _urgency(notification: PushSource) -> str:
    if notification.event in URGENT_EVENTS:
        return "high"
    return "low" if notification.type == "system" else "normal"


def _document(notification: PushSource, body: str, app_badge: int, public_url: str) -> str:
    message: dict[str, Any] = {
        "web_push": 8030,
        "notification": {
            "title": notification.title,
            "body": body,
            "navigate": public_url.rstrip("/") + notification.url,
            "tag": f"{notification.type}-{notification.data.get('order_id', notification.id)}",
            "lang": "en",
            "data": {
                "id": str(notification.id),
                "type": notification.type,
                "event": notification.event,
            },
        },
        "app_badge": app_badge,
        "mutable": True,
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def build_message(notification: PushSource, *, app_badge: int, public_url: str) -> PushMessage:
    """Render the push; the body text is shortened (never the JSON) to fit one record."""
    body = notification.body
    doc = _document(notification, body, app_badge, public_url)
    while len(doc.encode()) > MAX_PLAINTEXT and body:
        excess = len(doc.encode()) - MAX_PLAINTEXT
        keep = max(0, len(body) - max(excess, 1) - 1)
        body = body[:keep].rstrip() + "…" if keep else ""
        doc = _document(notification, body, app_badge, public_url)
    return PushMessage(
        payload=doc,
        ttl=TTL_BY_TYPE.get(notification.type, 3600),
        urgency=_urgency(notification),
        # Topic (RFC 8030 §5.4, ≤32 base64url chars): a newer system notice replaces
        # an undelivered older one; orders must each arrive, so they get none.
        topic="system-notice" if notification.type == "system" else None,
    )
