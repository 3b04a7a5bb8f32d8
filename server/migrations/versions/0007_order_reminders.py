"""order reminders: a pending order rings again; preferences say how often

Revision ID: 0007_order_reminders
Revises: 0006_email_outbox
Create Date: 2026-11-29 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0007_order_reminders"
down_revision: str | None = "0006_email_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "order_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("max_repeats", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("next_due_at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("push_failed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", server.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", server.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_order_reminders_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_reminders_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["users.id"],
            name=op.f("fk_order_reminders_vendor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_reminders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_reminders_order_id")),
    )
    op.create_index(
        op.f("ix_order_reminders_vendor_id"), "order_reminders", ["vendor_id"], unique=False
    )
    op.create_index(
        op.f("ix_order_reminders_notification_id"),
        "order_reminders",
        ["notification_id"],
        unique=False,
    )
    op.create_index(
        "ix_order_reminders_due",
        "order_reminders",
        ["next_due_at"],
        unique=False,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    with op.batch_alter_table("user_preferences") as batch:
        batch.add_column(
            sa.Column(
                "order_repeat_seconds", sa.Integer(), server_default=sa.text("120"), nullable=False
            )
        )
        batch.add_column(
            sa.Column(
                "order_max_repeats", sa.Integer(), server_default=sa.text("3"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("user_preferences") as batch:
        batch.drop_column("order_max_repeats")
        batch.drop_column("order_repeat_seconds")
    op.drop_index(
        "ix_order_reminders_due",
        table_name="order_reminders",
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.drop_index(op.f("ix_order_reminders_notification_id"), table_name="order_reminders")
    op.drop_index(op.f("ix_order_reminders_vendor_id"), table_name="order_reminders")
    op.drop_table("order_reminders")
