"""mailbox counts, modification sequences and expunge records

Per-mailbox message and unseen counts and the highest modification sequence, the modseq of
each message, and the removals by modseq: IMAP sessions ask for what changed since the
modseq they saw instead of reading the whole mailbox again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        for column in ("message_count", "unseen_count", "highest_modseq"):
            batch.add_column(sa.Column(column, sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("mailbox_messages") as batch:
        batch.add_column(sa.Column("modseq", sa.BigInteger(), server_default="0", nullable=False))
        batch.create_index(
            "ix_mailbox_messages_mailbox_id_modseq", ["mailbox_id", "modseq"], unique=False
        )
    op.create_table(
        "mailbox_expunges",
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("modseq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mailbox_expunges_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mailbox_id", "uid", name=op.f("pk_mailbox_expunges")),
    )
    op.create_index(
        "ix_mailbox_expunges_mailbox_id_modseq",
        "mailbox_expunges",
        ["mailbox_id", "modseq"],
        unique=False,
    )
    # Existing mailboxes: count once; every message starts at modseq 0.
    op.execute(
        "UPDATE mailboxes SET"
        " message_count = (SELECT count(*) FROM mailbox_messages m"
        "  WHERE m.mailbox_id = mailboxes.id),"
        " unseen_count = (SELECT count(*) FROM mailbox_messages m"
        "  WHERE m.mailbox_id = mailboxes.id"
        "  AND ' ' || m.flags || ' ' NOT LIKE '% \\Seen %' ESCAPE '!')"
    )


def downgrade() -> None:
    op.drop_index("ix_mailbox_expunges_mailbox_id_modseq", table_name="mailbox_expunges")
    op.drop_table("mailbox_expunges")
    with op.batch_alter_table("mailbox_messages") as batch:
        batch.drop_index("ix_mailbox_messages_mailbox_id_modseq")
        batch.drop_column("modseq")
    with op.batch_alter_table("mailboxes") as batch:
        for column in ("highest_modseq", "unseen_count", "message_count"):
            batch.drop_column(column)
