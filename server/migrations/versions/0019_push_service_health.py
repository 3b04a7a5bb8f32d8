"""push service health: every POST's answer and each worker's breaker, for the console

Revision ID: 0019_push_service_health
Revises: 0016_shop_orders
Create Date: 2026-12-07 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0019_push_service_health"
down_revision: str | None = "0016_shop_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_attempts")),
    )
    op.create_index(op.f("ix_push_attempts_at"), "push_attempts", ["at"], unique=False)
    op.create_index("ix_push_attempts_service_at", "push_attempts", ["service", "at"], unique=False)
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
    op.drop_index("ix_push_attempts_service_at", table_name="push_attempts")
    op.drop_index(op.f("ix_push_attempts_at"), table_name="push_attempts")
    op.drop_table("push_attempts")
