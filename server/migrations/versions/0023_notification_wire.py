"""notifications: the immutable part of each one's answer, stored as rendered JSON

The inbox's page joins it with the read/seen state and push outcome instead of
loading and serializing every row per request (server.notifications.wire). Rows are
backfilled here in batches; one left NULL is still rendered on read.

Revision ID: 0023_notification_wire
Revises: 0022_one_delivery_index
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.core.db import UTCDateTime
from server.notifications.wire import wire_of

revision: str = "0023_notification_wire"
down_revision: str | None = "0022_one_delivery_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

notifications = sa.table(
    "notifications",
    sa.column("id", sa.Integer()),
    sa.column("type", sa.String()),
    sa.column("event", sa.String()),
    sa.column("title", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("url", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("lang", sa.String()),
    sa.column("created_at", UTCDateTime()),
    sa.column("wire", sa.Text()),
)


def upgrade() -> None:
    op.add_column("notifications", sa.Column("wire", sa.Text(), nullable=True))
    backfill(op.get_bind())


def backfill(bind: sa.Connection) -> None:
    """Render every row's wire, by id, a batch per statement pair."""
    n = notifications.c
    fields = (n.type, n.event, n.title, n.body, n.url, n.data, n.lang, n.created_at)
    update = (
        notifications.update()
        .where(n.id == sa.bindparam("row_id"))
        .values(wire=sa.bindparam("rendered"))
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(n.id, *fields)
            .where(n.id > after, n.wire.is_(None))
            .order_by(n.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            update,
            [{"row_id": row.id, "rendered": wire_of(row)} for row in rows],
        )
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("wire")
