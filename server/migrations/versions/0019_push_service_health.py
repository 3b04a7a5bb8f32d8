"""push service health: POSTs counted per service, period and answer time, and each
worker's breaker, for the console

Revision ID: 0019_push_service_health
Revises: 0017_shop_order_items
Create Date: 2026-12-07 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0019_push_service_health"
down_revision: str | None = "0017_shop_order_items"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_service_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("period", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("server_errors", sa.Integer(), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_service_stats")),
        sa.UniqueConstraint("service", "period", "bin", name="uq_push_service_stats_key"),
    )
    op.create_index(
        op.f("ix_push_service_stats_period"), "push_service_stats", ["period"], unique=False
    )
    op.create_table(
        "push_circuits",
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("not_before", server.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("updated_at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", "worker", name=op.f("pk_push_circuits")),
    )


def downgrade() -> None:
    op.drop_table("push_circuits")
    op.drop_index(op.f("ix_push_service_stats_period"), table_name="push_service_stats")
    op.drop_table("push_service_stats")
