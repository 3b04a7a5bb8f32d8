"""worker heartbeats: one row per process running background loops

Revision ID: 0005_worker_heartbeats
Revises: 0004_token_lifetime_money
Create Date: 2026-11-29 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0005_worker_heartbeats"
down_revision: str | None = "0004_token_lifetime_money"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("loops", sa.Text(), nullable=False),
        sa.Column("started_at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
