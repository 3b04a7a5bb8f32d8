"""accounts: where a session was started (user agent, client address), for the list of sessions

Revision ID: 0011_session_origin
Revises: 0010_read_in_bulk
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_session_origin"
down_revision: str | None = "0010_read_in_bulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sessions from before stay unlabelled: nothing recorded where they came from.
    op.add_column("api_tokens", sa.Column("user_agent", sa.String(300), nullable=True))
    op.add_column("api_tokens", sa.Column("client_address", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("client_address")
        batch.drop_column("user_agent")
