"""Web Push API bodies: the browser's PushSubscription.toJSON() in, devices out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from server.core.ids import ID
from server.core.text import Name


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)


class SubscriptionIn(BaseModel):
    """`PushSubscription.toJSON()` plus an optional device label."""

    endpoint: str = Field(min_length=1, max_length=2048)
    expirationTime: int | None = None  # the browser's field name
    keys: SubscriptionKeys
    label: Name | None = None


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    endpoint: str
    label: str | None
    created_at: datetime


class SubscribedOut(SubscriptionOut):
    """The device just saved, with the token its service worker renews it with."""

    renewal_token: str = Field(
        description="Lets a service worker without a session replace this device's "
        "endpoint once (POST /api/push/renewals); the answer carries the next one."
    )


class RenewalIn(BaseModel):
    """A browser's new subscription for a device (`pushsubscriptionchange`)."""

    model_config = ConfigDict(extra="forbid")

    renewal_token: str = Field(min_length=3, max_length=80)
    endpoint: str = Field(min_length=1, max_length=2048)
    expirationTime: int | None = None  # the browser's field name
    keys: SubscriptionKeys


class DeviceOut(SubscriptionOut):
    """A device in the caller's list, with how its last pushes went."""

    muted: bool
    vapid_key_id: str
    expiration_time: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure_reason: str | None


class PublicKeyOut(BaseModel):
    public_key: str


class QueuedOut(BaseModel):
    queued: int


class DeviceMuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    muted: bool


class DeviceMuteOut(BaseModel):
    id: ID
    muted: bool
