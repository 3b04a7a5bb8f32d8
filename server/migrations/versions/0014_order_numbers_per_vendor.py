"""orders: numbers per vendor ("#1" is each vendor's first order)

Orders placed before keep the number they were shown with (their id), so a "#12" in
an email or on a lock screen still names the same order; each vendor's counter starts
after their highest, so no vendor ever has two orders with one number.

Revision ID: 0014_order_numbers_per_vendor
Revises: 0013_embed_integrations
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_order_numbers_per_vendor"
down_revision: str | None = "0013_embed_integrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_counters",
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["users.id"],
            name=op.f("fk_order_counters_vendor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vendor_id", name=op.f("pk_order_counters")),
    )
    op.add_column("orders", sa.Column("number", sa.Integer(), nullable=True))
    op.execute("UPDATE orders SET number = id")
    op.execute(
        "INSERT INTO order_counters (vendor_id, last_number) "
        "SELECT vendor_id, MAX(id) FROM orders GROUP BY vendor_id"
    )
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_orders_vendor_number", ["vendor_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_vendor_number", type_="unique")
        batch.drop_column("number")
    op.drop_table("order_counters")
