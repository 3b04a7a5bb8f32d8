"""languages: a user's locale, and the language each notification and broadcast is in

Revision ID: 0009_user_locale
Revises: 0008_order_answer_times
Create Date: 2026-11-29 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_user_locale"
down_revision: str | None = "0008_order_answer_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows written before: English, which every text was then.
TABLES = (("users", "locale"), ("notifications", "lang"), ("broadcasts", "lang"))


def upgrade() -> None:
    for table, column in TABLES:
        op.add_column(
            table,
            sa.Column(column, sa.String(length=16), server_default=sa.text("'en'"), nullable=False),
        )


def downgrade() -> None:
    for table, column in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
