"""declarations and numbering

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declaration_counters",
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("regime", sa.String(length=2), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "office_code", "year", "regime", name=op.f("pk_declaration_counters")
        ),
    )
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_code", sa.String(length=16), nullable=False),
        sa.Column("agent_reference", sa.String(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=8), nullable=False),
        sa.Column("regime", sa.String(length=2), nullable=False),
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=18), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("reply_content_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["intake_jobs.id"], name=op.f("fk_declarations_job_id_intake_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["reply_content_id"],
            ["message_contents.id"],
            name=op.f("fk_declarations_reply_content_id_message_contents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint(
            "agent_code", "agent_reference", name=op.f("uq_declarations_agent_code")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_declarations_number")),
    )
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_declarations_office_code_received_at", ["office_code", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_index("ix_declarations_office_code_received_at")

    op.drop_table("declarations")
    op.drop_table("declaration_counters")
