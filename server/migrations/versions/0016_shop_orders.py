"""shop orders: a marketplace's order_ref gets reminders, emails and an answer

Revision ID: 0016_shop_orders
Revises: 0015_webhook_deliveries
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0016_shop_orders"
down_revision: str | None = "0015_webhook_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("customer", sa.String(length=200), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("emailed", sa.String(length=100), nullable=False),
        sa.Column("created_at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", server.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_shop_orders_notification_id_notifications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["users.id"],
            name=op.f("fk_shop_orders_vendor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_orders")),
        sa.UniqueConstraint("vendor_id", "source", "order_ref", name="uq_shop_orders_ref"),
    )
    op.create_index(op.f("ix_shop_orders_vendor_id"), "shop_orders", ["vendor_id"], unique=False)
    with op.batch_alter_table("order_reminders") as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("shop_order_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_order_reminders_shop_order_id_shop_orders"),
            "shop_orders",
            ["shop_order_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_order_reminders_shop_order_id"), ["shop_order_id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM order_reminders WHERE order_id IS NULL")
    with op.batch_alter_table("order_reminders") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_order_reminders_shop_order_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_order_reminders_shop_order_id_shop_orders"), type_="foreignkey"
        )
        batch_op.drop_column("shop_order_id")
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_shop_orders_vendor_id"), table_name="shop_orders")
    op.drop_table("shop_orders")
