"""orders: Idempotency-Key on payments, cash payments and refunds

Revision ID: 0012_payment_idempotency
Revises: 0010_read_in_bulk
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_payment_idempotency"
down_revision: str | None = "0011_session_origin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_payments", sa.Column("recorded_by_id", sa.Integer(), nullable=True))
    op.add_column("order_payments", sa.Column("idempotency_key", sa.String(200), nullable=True))
    op.add_column("order_payments", sa.Column("request_hash", sa.String(64), nullable=True))
    # Rows without a key (NULL) never collide: NULLs are distinct in a unique index.
    op.create_index(
        "uq_order_payments_idempotency",
        "order_payments",
        ["recorded_by_id", "idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_order_payments_idempotency", table_name="order_payments")
    with op.batch_alter_table("order_payments") as batch:
        batch.drop_column("request_hash")
        batch.drop_column("idempotency_key")
        batch.drop_column("recorded_by_id")
