"""broadcast progress: the audience's size and how many of it the fan-out has walked

Revision ID: 0020_broadcast_progress
Revises: 0019_push_service_health
Create Date: 2026-12-07 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_broadcast_progress"
down_revision: str | None = "0019_push_service_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A broadcast finished before this revision walked its whole audience; how many users
    # that was is not known any more, only how many got its notification.
    for column in ("recipients_total", "recipients_done"):
        op.add_column(
            "broadcasts",
            sa.Column(column, sa.Integer(), server_default=sa.text("0"), nullable=False),
        )
    op.execute(
        "UPDATE broadcasts SET recipients_total = recipients, recipients_done = recipients"
        " WHERE status = 'done'"
    )


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("recipients_done")
        batch.drop_column("recipients_total")
