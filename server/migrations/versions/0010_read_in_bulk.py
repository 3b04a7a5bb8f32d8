"""analytics: notifications read by "mark all as read" are flagged, and not timed

Revision ID: 0010_read_in_bulk
Revises: 0009_user_locale
Create Date: 2026-11-29 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_read_in_bulk"
down_revision: str | None = "0009_user_locale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows read before cannot be told apart: they keep counting as opened one by one.
    op.add_column(
        "notifications",
        sa.Column("read_in_bulk", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("read_in_bulk")
