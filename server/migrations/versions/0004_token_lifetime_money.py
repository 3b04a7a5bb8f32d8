"""token lifetime (api_tokens.last_used_at) and 64-bit money columns

Revision ID: 0004_token_lifetime_money
Revises: 0003_extras
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import server.core.db

revision: str = "0004_token_lifetime_money"
down_revision: str | None = "0003_extras"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Cents columns: 32-bit INTEGER on PostgreSQL overflowed at 21,474,836.47 while an order
# may total 10^14 cents. SQLite's INTEGER is 64-bit already, so only PostgreSQL changes.
MONEY = (
    ("orders", "total_cents"),
    ("orders", "paid_cents"),
    ("orders", "refunded_cents"),
    ("order_items", "unit_price_cents"),
    ("order_payments", "amount_cents"),
)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_used_at", server.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    # When a token was last used is unknown: count existing ones as used now, so the
    # idle lifetime starts at the upgrade (the absolute one still counts from created_at).
    tokens = sa.table("api_tokens", sa.column("last_used_at", server.core.db.UTCDateTime()))
    op.execute(tokens.update().values(last_used_at=datetime.now(UTC)))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "last_used_at", existing_type=server.core.db.UTCDateTime(timezone=True), nullable=False
        )

    if op.get_bind().dialect.name != "sqlite":
        for table, column in MONEY:
            op.alter_column(
                table,
                column,
                existing_type=sa.Integer(),
                type_=sa.BigInteger(),
                existing_nullable=False,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table, column in MONEY:
            op.alter_column(
                table,
                column,
                existing_type=sa.BigInteger(),
                type_=sa.Integer(),
                existing_nullable=False,
            )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
