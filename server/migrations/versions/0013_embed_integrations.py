"""integrations: marketplaces that embed vendorbell, their sign-in keys and spent token ids;
their vendors (no password, known by the marketplace's id) and origin-bound sessions

Revision ID: 0013_embed_integrations
Revises: 0012_payment_idempotency
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.core.db import UTCDateTime

revision: str = "0013_embed_integrations"
down_revision: str | None = "0012_payment_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN_ACCOUNTS = sa.text("integration_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("link_base", sa.String(300), nullable=False),
        sa.Column("webhook_url", sa.String(2048), nullable=True),
        sa.Column("webhook_events", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    op.create_table(
        "embed_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.String(40), nullable=False),
        sa.Column("kid", sa.String(128), nullable=False),
        sa.Column("alg", sa.String(8), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_embed_keys_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embed_keys")),
        sa.UniqueConstraint("integration_id", "kid", name=op.f("uq_embed_keys_integration_id")),
    )
    op.create_index(op.f("ix_embed_keys_integration_id"), "embed_keys", ["integration_id"])
    op.create_table(
        "embed_token_uses",
        sa.Column("integration_id", sa.String(40), nullable=False),
        sa.Column("jti_sha256", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_embed_token_uses_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "jti_sha256", name=op.f("pk_embed_token_uses")),
    )
    op.create_index(op.f("ix_embed_token_uses_expires_at"), "embed_token_uses", ["expires_at"])
    with op.batch_alter_table("integration_keys") as batch:
        batch.add_column(sa.Column("integration_id", sa.String(40), nullable=True))
        batch.create_foreign_key(
            op.f("fk_integration_keys_integration_id_integrations"),
            "integrations",
            ["integration_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_integration_keys_integration_id"), ["integration_id"])
    _users_upgrade()
    op.add_column("api_tokens", sa.Column("origin", sa.String(300), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", UTCDateTime(), nullable=True))


def _users_upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("integration_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("external_sub", sa.String(128), nullable=True))
        batch.add_column(sa.Column("shop_name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=True)
        batch.create_foreign_key(
            op.f("fk_users_integration_id_integrations"),
            "integrations",
            ["integration_id"],
            ["id"],
            ondelete="CASCADE",
        )
        # An email is unique among vendorbell's own accounts only: a marketplace's
        # vendor may carry any address without ever reaching the account that has it.
        batch.drop_constraint("uq_users_email", type_="unique")
    op.create_index(
        "uq_users_email_own",
        "users",
        ["email"],
        unique=True,
        sqlite_where=OWN_ACCOUNTS,
        postgresql_where=OWN_ACCOUNTS,
    )
    op.create_index(
        "uq_users_integration_sub", "users", ["integration_id", "external_sub"], unique=True
    )


def downgrade() -> None:
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("api_tokens", "origin")
    op.drop_index("uq_users_integration_sub", table_name="users")
    op.drop_index("uq_users_email_own", table_name="users")
    op.execute("DELETE FROM users WHERE integration_id IS NOT NULL")
    with op.batch_alter_table("users") as batch:
        batch.create_unique_constraint("uq_users_email", ["email"])
        batch.drop_constraint("fk_users_integration_id_integrations", type_="foreignkey")
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=False)
        for column in ("disabled_at", "time_zone", "shop_name", "external_sub", "integration_id"):
            batch.drop_column(column)
    with op.batch_alter_table("integration_keys") as batch:
        batch.drop_index("ix_integration_keys_integration_id")
        batch.drop_constraint("fk_integration_keys_integration_id_integrations", type_="foreignkey")
        batch.drop_column("integration_id")
    op.drop_table("embed_token_uses")
    op.drop_table("embed_keys")
    op.drop_table("integrations")
