"""The Declarative Web Push message for a notification, and its delivery headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from server.core.links import absolute
from server.push.receipts import ROOM as RECEIPT_ROOM


@dataclass(frozen=True)
class PushType:
    """How the pushes of one notification type travel: RFC 8030 §5.2 TTL in seconds (how
    long a push service keeps trying) and §5.3 urgency. Told by the notifications feature
    for each type it declares (server.notifications.types), since push sits below it."""

    ttl: int = 3600
    urgency: str = "normal"


PUSH_TYPES: dict[str, PushType] = {}


def declare_push_type(name: str, push_type: PushType) -> None:
    PUSH_TYPES[name] = push_type


# RFC 8030 §5.3. `high` for new orders and their reminders: mobile push services (and
# iOS in particular) delay or batch normal-urgency messages on devices in power saving.
URGENT_EVENTS = {"order.created", "order.reminder"}
# The one push that shows again over the order's notification with sound (`renotify`);
# any other push of an order replaces it quietly (server.orders.alerts).
RENOTIFY_EVENTS = {"order.reminder"}
# RFC 8030 §5.4 limit: a record size of 4096 bytes, including the 86-byte header
# (salt 16 + rs 4 + idlen 1 + key 65), the 16-byte AEAD tag and the padding delimiter.
# The sender adds each device's receipt token (server.push.receipts.ROOM) to the document.
MAX_PLAINTEXT = 4096 - 86 - 16 - 1 - RECEIPT_ROOM


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
    @property
    def lang(self) -> str: ...


@dataclass(frozen=True, slots=True)
class PushContent:
    """A `PushSource` as a plain record: what a push says and the notification it is
    reported against."""

    id: int
    type: str
    event: str
    title: str
    body: str
    url: str
    data: dict[str, Any]
    lang: str


@dataclass(frozen=True)
class PushMessage:
    payload: str
    ttl: int
    urgency: str
    topic: str | None


def _push_type(notification: PushSource) -> PushType:
    return PUSH_TYPES.get(notification.type) or PushType()


def _urgency(notification: PushSource) -> str:
    if notification.event in URGENT_EVENTS:
        return "high"
    return _push_type(notification).urgency


def _tag(notification: PushSource) -> str:
    """One per order (`order-12`): every push about an order shows in its one place. A
    quiet-hours digest (server.notifications.preferences.digest) has its own
    (`order-digest`), never one that an order's id could also give."""
    if "digest" in notification.data:
        return f"{notification.type}-digest"
    # A marketplace's order (server.orders.shop) by its key: `order-shop-<hash>`.
    order = notification.data.get("shop_order") or notification.data.get("order_id")
    return f"{notification.type}-{order or notification.id}"


def _topic(notification: PushSource) -> str | None:
    """Topic (RFC 8030 §5.4, ≤32 base64url chars): a push service keeps only the newest
    undelivered message of a topic. A newer system notice replaces an older one; each
    order is its own topic (`order-12`, the tag), so every order still arrives, and a
    phone that was offline gets only the order's latest state or reminder."""
    if notification.type == "system":
        return "system-notice"
    if notification.type == "order":
        return _tag(notification)[:32]
    return None


def _document(notification: PushSource, body: str, app_badge: int, link_base: str) -> str:
    data: dict[str, Any] = {
        # Marks the push as vendorbell's: a marketplace's worker that imports the embed
        # snippet hands vendorbell only these (vendorbell.owns(event)).
        "app": "vendorbell",
        "id": str(notification.id),
        "type": notification.type,
        "event": notification.event,
    }
    if "reminders" in notification.data:  # how many reminders this one makes (1, 2, …)
        data["reminders"] = notification.data["reminders"]
    message: dict[str, Any] = {
        "web_push": 8030,
        "notification": {
            "title": notification.title,
            "body": body,
            "navigate": absolute(link_base, notification.url),
            "tag": _tag(notification),
            "lang": notification.lang,  # what title and body are written in
            "data": data,
        },
        "app_badge": app_badge,
        "mutable": True,
    }
    if notification.type == "order":  # always with a tag, as `renotify` must be
        message["notification"]["renotify"] = notification.event in RENOTIFY_EVENTS
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def build_message(notification: PushSource, *, app_badge: int, link_base: str) -> PushMessage:
    """Render the push; the body text is shortened (never the JSON) to fit one record."""
    body = notification.body
    doc = _document(notification, body, app_badge, link_base)
    while len(doc.encode()) > MAX_PLAINTEXT and body:
        excess = len(doc.encode()) - MAX_PLAINTEXT
        keep = max(0, len(body) - max(excess, 1) - 1)
        body = body[:keep].rstrip() + "…" if keep else ""
        doc = _document(notification, body, app_badge, link_base)
    return PushMessage(
        payload=doc,
        ttl=_push_type(notification).ttl,
        urgency=_urgency(notification),
        topic=_topic(notification),
    )
