"""imap folders: subscriptions and the UIDVALIDITY floor

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_subscriptions",
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("owner", "name", name=op.f("pk_mailbox_subscriptions")),
    )
    op.create_table(
        "uid_validity_floor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uid_validity_floor")),
    )


def downgrade() -> None:
    op.drop_table("uid_validity_floor")
    op.drop_table("mailbox_subscriptions")
