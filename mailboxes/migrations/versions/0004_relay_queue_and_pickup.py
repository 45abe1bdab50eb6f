"""relay queue, pickup records and office handovers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["message_contents.id"],
            name=op.f("fk_relay_queue_content_id_message_contents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_queue")),
    )
    op.create_index(op.f("ix_relay_queue_content_id"), "relay_queue", ["content_id"])
    op.create_index("ix_relay_queue_next_attempt_at", "relay_queue", ["next_attempt_at"])
    op.create_table(
        "pickup_seen",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("mailbox_key", sa.String(length=64), nullable=False),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "mailbox_key", "message_key", name=op.f("pk_pickup_seen")
        ),
    )
    op.create_table(
        "office_handovers",
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("from_node", sa.String(length=64), nullable=False),
        sa.Column("to_node", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "office_code", "serial", "direction", name=op.f("pk_office_handovers")
        ),
    )


def downgrade() -> None:
    op.drop_table("office_handovers")
    op.drop_table("pickup_seen")
    op.drop_index("ix_relay_queue_next_attempt_at", table_name="relay_queue")
    op.drop_index(op.f("ix_relay_queue_content_id"), table_name="relay_queue")
    op.drop_table("relay_queue")
