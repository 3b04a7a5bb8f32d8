"""extras: preferences and held pushes, broadcasts, integration keys and events

Revision ID: 0003_extras
Revises: 0002_push
Create Date: 2026-11-25 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0003_extras"
down_revision: str | None = "0002_push"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("quiet_enabled", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.Integer(), nullable=False),
        sa.Column("quiet_end", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("orders_ring", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_preferences")),
    )
    op.create_table(
        "held_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_held_pushes_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_held_pushes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_pushes")),
    )
    op.create_index(op.f("ix_held_pushes_user_id"), "held_pushes", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_held_pushes_user_id"), table_name="held_pushes")
    op.drop_table("held_pushes")
    op.drop_table("user_preferences")
