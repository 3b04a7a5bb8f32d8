"""Push subscriptions (one per browser/device) and the delivery outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, UTCDateTime, partial_index, utcnow

DELIVERY_STATES = ("queued", "delivered", "failed", "expired")


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    # The VAPID key this subscription was made with: it must always be signed with it.
    vapid_key_id: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str | None] = mapped_column(String(120))
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    expiration_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_reason: Mapped[str | None] = mapped_column(Text)


class PushDelivery(Base):
    """One push message to one subscription: the transactional outbox row."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        # The worker's claim query: due queued rows, oldest first.
        partial_index("ix_push_deliveries_due", "due_at", where="status = 'queued'"),
        # outcomes_for(): the inbox's per-notification push counts.
        Index("ix_push_deliveries_notification_status", "notification_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found through ix_push_deliveries_notification_status: a second index on the id
    # alone only cost every delivery row one more write.
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    # Kept (NULL) when the subscription is deleted, so the outcome stays visible.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    payload: Mapped[str] = mapped_column(Text)
    ttl: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class PushServiceStat(Base):
    """The POSTs to one push service in one five-minute period whose answer took about
    the same time (one `bin` of a log-spaced histogram, server.push.attempts), counted
    by what they answered. A delivery row keeps only its last answer (a 429 followed by
    a 201 would vanish); a row per POST made the console's day of figures a scan of
    every POST (bench/bench_console.py: 95 ms at 20,000, seconds at a million). Counted
    with the outcomes, in the same transaction; pruned after RETENTION_DAYS."""

    __tablename__ = "push_service_stats"
    __table_args__ = (
        UniqueConstraint("service", "period", "bin", name="uq_push_service_stats_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(255))  # host[:port]
    period: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # its start
    bin: Mapped[int] = mapped_column(Integer)  # answer time: server.push.attempts.bin_of
    sent: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    rate_limited: Mapped[int] = mapped_column(Integer)  # 429
    server_errors: Mapped[int] = mapped_column(Integer)  # 5xx
    timeouts: Mapped[int] = mapped_column(Integer)  # no answer (a timeout, a lost connection)


class PushCircuit(Base):
    """A push service's breaker as one delivery worker last saw it change: breakers
    live in each worker's memory (server.push.services), the console reads them here."""

    __tablename__ = "push_circuits"

    service: Mapped[str] = mapped_column(String(255), primary_key=True)
    worker: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid:n
    state: Mapped[str] = mapped_column(String(16))  # closed | half_open | open
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
