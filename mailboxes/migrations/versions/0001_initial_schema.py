"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("agent_code", sa.String(length=16), nullable=True),
        sa.Column("office_code", sa.String(length=3), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("apop_secret", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("address", name=op.f("uq_accounts_address")),
        sa.UniqueConstraint("agent_code", name=op.f("uq_accounts_agent_code")),
    )
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("uid_next", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("owner", "name", name=op.f("uq_mailboxes_owner")),
    )
    op.create_table(
        "message_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_contents")),
    )
    op.create_table(
        "intake_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["message_contents.id"],
            name=op.f("fk_intake_jobs_content_id_message_contents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_jobs")),
    )
    with op.batch_alter_table("intake_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_intake_jobs_state_id", ["state", "id"], unique=False)

    op.create_table(
        "mailbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("internal_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["message_contents.id"],
            name=op.f("fk_mailbox_messages_content_id_message_contents"),
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mailbox_messages_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_messages")),
        sa.UniqueConstraint("mailbox_id", "uid", name=op.f("uq_mailbox_messages_mailbox_id")),
    )
    with op.batch_alter_table("mailbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mailbox_messages_content_id"), ["content_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mailbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailbox_messages_content_id"))

    op.drop_table("mailbox_messages")
    with op.batch_alter_table("intake_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_jobs_state_id")

    op.drop_table("intake_jobs")
    op.drop_table("message_contents")
    op.drop_table("mailboxes")
    op.drop_table("accounts")
