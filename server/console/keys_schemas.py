"""What the console's Integrations and keys page reads: integrations with their keys
and webhook health, and the VAPID keys with the subscriptions signed with each. Public
parts only: no private key, no HMAC secret is ever in these answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from server.core.ids import ID


class ConsoleEmbedKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kid: str
    alg: str
    created_at: datetime
    last_used_at: datetime | None
    retired_at: datetime | None


class ConsoleHmacKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID = Field(description="Revoke with DELETE /api/admin/integration-keys/{id}.")
    key_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    event_id: str = Field(description="The body's `id`: the same on every attempt and redelivery.")
    type: str
    status: str = Field(description="queued, delivered or failed")
    attempts: int
    last_status: int | None = Field(description="The receiver's last HTTP status; null: none.")
    error: str | None
    created_at: datetime
    due_at: datetime
    delivered_at: datetime | None


class WebhookHealthOut(BaseModel):
    url: str | None
    events: list[str]
    last_status: int | None = Field(description="The last answered attempt's HTTP status.")
    last_error: str | None = Field(description="Why the last attempt failed; null: it did not.")
    last_attempt_id: ID | None = Field(description="The delivery the two fields above are of.")
    queued: int = Field(description="Events waiting to be sent or retried.")
    failures_last_day: int = Field(description="Events given up on, created in the last 24 h.")
    recent: list[WebhookDeliveryOut] = Field(description="The newest deliveries, newest first.")


class IntegrationOverviewOut(BaseModel):
    id: str
    name: str
    allowed_origins: list[str]
    link_base: str
    created_at: datetime
    embed_keys: list[ConsoleEmbedKeyOut]
    hmac_keys: list[ConsoleHmacKeyOut]
    webhook: WebhookHealthOut


class VapidKeyOut(BaseModel):
    kid: str
    public_key: str = Field(description="base64url P-256 point (the applicationServerKey).")
    current: bool = Field(description="New subscriptions are made with this key.")
    created_at: datetime | None = Field(description="When its file was written, if known.")
    subscriptions: int = Field(description="Subscriptions made with it: pushes to them sign so.")


class VapidKeysOut(BaseModel):
    keys: list[VapidKeyOut]
    unknown_subscriptions: int = Field(
        description="Subscriptions whose key is no longer on disk (they cannot be pushed to)."
    )


class RetiredOut(VapidKeysOut):
    retired: list[str] = Field(description="The kids deleted by this call.")
