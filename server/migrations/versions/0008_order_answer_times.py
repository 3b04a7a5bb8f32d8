"""order answer times: when an order left pending, and when it was accepted

Orders placed before this migration keep NULL in both: their times were never stored.

Revision ID: 0008_order_answer_times
Revises: 0007_order_reminders
Create Date: 2026-11-29 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0008_order_answer_times"
down_revision: str | None = "0007_order_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("answered_at", server.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("accepted_at", server.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("accepted_at")
        batch.drop_column("answered_at")
