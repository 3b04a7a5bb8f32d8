"""Integration keys (a shop's credentials) and the events received with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, utcnow


class Integration(Base):
    """A marketplace that embeds vendorbell: its `id` is the `iss` of the tokens it signs."""

    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Exact `scheme://host[:port]` of the pages that may embed the bell (CORS, sessions).
    allowed_origins: Mapped[list[str]] = mapped_column(JSON)
    link_base: Mapped[str] = mapped_column(String(300))  # notification links resolve here
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_events: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EmbedKey(Base):
    """A public key a marketplace signs its sign-in tokens with; one algorithm per key."""

    __tablename__ = "embed_keys"
    __table_args__ = (UniqueConstraint("integration_id", "kid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[str] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    kid: Mapped[str] = mapped_column(String(128))
    alg: Mapped[str] = mapped_column(String(8))  # ES256 | EdDSA | RS256
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EmbedTokenUse(Base):
    """A sign-in token's `jti`, kept until the token expires: the primary key makes a
    second use fail in whichever process tries it (a replay)."""

    __tablename__ = "embed_token_uses"

    integration_id: Mapped[str] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    jti_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class IntegrationKey(Base):
    __tablename__ = "integration_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The marketplace it belongs to (its vendors are then named by `sub`); None for the
    # keys of a shop that names vendors by id or email only.
    integration_id: Mapped[str | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(40), unique=True)  # public, sent in a header
    name: Mapped[str] = mapped_column(String(120))
    # The signing secret, sealed with AES-GCM under a key derived from SECRET_KEY
    # (server.integrations.sealing): HMAC verification needs the secret itself.
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IntegrationEvent(Base):
    """One accepted event; the unique (key, event id) pair makes delivery idempotent."""

    __tablename__ = "integration_events"
    __table_args__ = (UniqueConstraint("key_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("integration_keys.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(48))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
