"""push deliveries: drop the index on notification_id alone

ix_push_deliveries_notification_status (notification_id, status) answers every lookup
by notification id as well; the single-column index only cost a write per delivery
row (a broadcast writes one per device).

Revision ID: 0022_one_delivery_index
Revises: 0020_broadcast_progress
Create Date: 2026-12-07 19:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022_one_delivery_index"
down_revision: str | None = "0020_broadcast_progress"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_push_deliveries_notification_id", table_name="push_deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_push_deliveries_notification_id",
        "push_deliveries",
        ["notification_id"],
        unique=False,
    )
