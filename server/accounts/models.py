"""Users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, partial_index, utcnow

ROLES = ("vendor", "customer", "admin")


class User(Base):
    """A vendorbell account, or a marketplace's vendor (`integration_id` set).

    A marketplace's vendor is known by (integration, `external_sub`) and signs in only
    through its marketplace (server.integrations.embed): no password, and its email is
    the marketplace's to set, so it is unique only among vendorbell's own accounts (one
    marketplace's vendor can never claim another account by email).
    """

    __tablename__ = "users"
    __table_args__ = (
        partial_index("uq_users_email_own", "email", where="integration_id IS NULL", unique=True),
        Index("uq_users_integration_sub", "integration_id", "external_sub", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), index=True)
    # None for a marketplace's vendor: password sign-in is impossible for it.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # What the user reads (server.core.languages): their notifications and emails are written in it.
    locale: Mapped[str] = mapped_column(String(16), default="en", server_default=text("'en'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    integration_id: Mapped[str | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    external_sub: Mapped[str | None] = mapped_column(String(128))
    shop_name: Mapped[str | None] = mapped_column(String(120))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA, from the marketplace
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token / session cookie value, stored only as an HMAC digest.

    It ends `token_idle_days` after `last_used_at` (bumped at most hourly, see
    server.accounts.tokens) or `token_absolute_days` after `created_at`, whichever is first.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Where the session was started (the list of one's sessions shows them); None for
    # sessions from before these were recorded.
    user_agent: Mapped[str | None] = mapped_column(String(300))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # An embedded session (server.integrations.embed): usable only from this Origin,
    # and not after `expires_at` whatever the lifetime settings say. None for the PWA's.
    origin: Mapped[str | None] = mapped_column(String(300))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
