"""Integration event and key bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.core.ids import ID
from server.core.text import Line64, Line200, Name, Text1000
from server.notifications.links import AppPath

EventType = Literal[
    "order.created",
    "order.accepted",
    "order.rejected",
    "order.cancelled",
    "payment.received",
    "message.created",
    "system.notice",
]


class EventData(BaseModel):
    """What the shop knows about the event; every field optional. A field not listed here
    is ignored, and named in the answer's `ignored_fields` (`data.<name>`)."""

    model_config = ConfigDict(extra="allow")

    # The shop's order number: it names the order in order.accepted, order.rejected and
    # order.cancelled, and with it an order.created rings again until one of those comes.
    order_ref: Line64 | None = None
    customer: Name | None = None
    total_cents: int | None = Field(default=None, ge=0, le=10**12)
    items: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="How many items the order holds (quantities summed), for order.created: "
        "shown as a native order's count ('3 items'). Left out, the count is not mentioned.",
    )
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    title: Line200 | None = None  # system.notice
    text: Text1000 | None = None  # message / notice body
    url: AppPath | None = None


class EventVendor(BaseModel):
    """A marketplace's vendor by its own id (`sub`), created if never seen (the key must
    belong to an integration); the other fields update its profile."""

    model_config = ConfigDict(extra="forbid")

    sub: str = Field(min_length=1, max_length=128)
    name: Name | None = None
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    locale: str | None = Field(default=None, max_length=35)
    zoneinfo: str | None = Field(default=None, max_length=64)
    shop_name: Name | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128)  # the shop's event id: idempotency key
    type: EventType
    # vendor id (as /api/vendors) or email, or a marketplace's vendor by its sub
    vendor: Annotated[str, Field(min_length=1, max_length=320)] | EventVendor
    data: EventData = Field(default_factory=EventData)


class EventOut(BaseModel):
    id: str  # the shop's event id
    status: Literal["accepted", "duplicate"]
    notification_id: ID | None
    ignored_fields: list[str] = Field(
        default_factory=list,
        description="Fields of `data` vendorbell does not know, as `data.<name>`: ignored.",
        examples=[["data.colour"]],
    )


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    # The marketplace the key belongs to: its events and calls then name vendors by `sub`.
    integration_id: str | None = Field(default=None, max_length=40)


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    key_id: str
    name: str
    integration_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewKeyOut(KeyOut):
    secret: str  # shown once, never again


class EmbedUserOut(BaseModel):
    id: ID
    name: str
    locale: str


class EmbedCountsOut(BaseModel):
    unread: int
    unseen: int


class EmbedSessionOut(BaseModel):
    """A bearer session for the marketplace's page: keep it in memory only."""

    token: str
    expires_at: datetime = Field(description="Absolute: ask the marketplace for a new JWT before.")
    user: EmbedUserOut
    counts: EmbedCountsOut
    vapid_public_key: str = Field(description="For PushManager.subscribe (applicationServerKey).")


WebhookEvent = Literal[
    "notification.created",
    "notification.delivered",
    "notification.failed",
    "notification.expired",
    "notification.shown",
    "notification.clicked",
    "notification.read",
    "device.added",
    "device.removed",
]


class IntegrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    allowed_origins: list[Annotated[str, Field(max_length=300)]] = Field(
        min_length=1, max_length=20, examples=[["https://shop.example"]]
    )
    link_base: str = Field(max_length=300, examples=["https://shop.example"])
    webhook_url: str | None = Field(default=None, max_length=2048)
    webhook_events: list[WebhookEvent] = Field(default_factory=list, max_length=9)


class EmbedKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kid: str
    alg: str
    public_key_pem: str
    created_at: datetime
    last_used_at: datetime | None
    retired_at: datetime | None


class IntegrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The `iss` of the tokens the marketplace signs.")
    name: str
    allowed_origins: list[str]
    link_base: str
    webhook_url: str | None
    webhook_events: list[str]
    created_at: datetime


class IntegrationDetailOut(IntegrationOut):
    embed_keys: list[EmbedKeyOut]


class EmbedKeyIn(BaseModel):
    """Either the marketplace's public key (PEM), or `generate` and an algorithm."""

    model_config = ConfigDict(extra="forbid")

    public_key_pem: str | None = Field(default=None, min_length=1, max_length=4000)
    kid: str | None = Field(default=None, min_length=1, max_length=128)
    generate: Literal["ES256", "EdDSA", "RS256"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> EmbedKeyIn:
        if (self.public_key_pem is None) == (self.generate is None):
            raise ValueError("give either public_key_pem or generate")
        return self


class GeneratedKeyOut(EmbedKeyOut):
    private_key_pem: str | None = Field(
        description="With `generate` only, shown once: vendorbell keeps only the public key."
    )


class VendorIn(BaseModel):
    """What a marketplace says about one of its vendors; an absent field stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    locale: str | None = Field(default=None, max_length=35, examples=["de"])
    zoneinfo: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    shop_name: Name | None = None
    disabled: bool | None = None


class BulkVendorIn(VendorIn):
    sub: str = Field(min_length=1, max_length=128)


class BulkVendorsIn(BaseModel):
    """Up to 1,000 vendors; each is checked on its own (a refused one fails alone)."""

    vendors: list[BulkVendorIn] = Field(min_length=1, max_length=1000)


class VendorOut(BaseModel):
    id: ID
    sub: str
    name: str
    email: str | None
    locale: str
    zoneinfo: str | None
    shop_name: str | None
    disabled: bool
    created_at: datetime


class BulkItemOut(BaseModel):
    sub: str | None
    status: Literal["created", "updated", "failed"]
    id: ID | None = None
    code: str | None = None
    detail: str | None = None


class BulkOut(BaseModel):
    results: list[BulkItemOut]
