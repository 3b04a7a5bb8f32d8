"""push engine: index for per-notification push outcomes

Revision ID: 0002_push
Revises: 0001
Create Date: 2026-11-25 12:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_push"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The inbox asks, for each listed notification, how its pushes went.
    with op.batch_alter_table("push_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_push_deliveries_notification_status", ["notification_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("push_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_push_deliveries_notification_status")
