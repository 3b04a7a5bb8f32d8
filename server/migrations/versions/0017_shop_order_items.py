"""shop order items: the item count a marketplace sends with its order, when it does

Revision ID: 0017_shop_order_items
Revises: 0016_shop_orders
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_shop_order_items"
down_revision: str | None = "0016_shop_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: orders received before, and those sent without a count, have none.
    op.add_column("shop_orders", sa.Column("item_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shop_orders") as batch:
        batch.drop_column("item_count")
