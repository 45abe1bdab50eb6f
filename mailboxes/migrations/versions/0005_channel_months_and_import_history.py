"""channel months and import history

The monthly red-channel counts per office (CH-ASSIGN) and the imports numbered to importers
without RUC (ID-NORUC).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_months",
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("regime", sa.String(length=2), nullable=False),
        sa.Column("red_limit", sa.String(length=32), nullable=False),
        sa.Column("numbered", sa.Integer(), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("mandatory_red", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "office_code", "year", "month", "regime", name=op.f("pk_channel_months")
        ),
    )
    op.create_table(
        "import_history",
        sa.Column("number", sa.String(length=18), nullable=False),
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("party_doc_type", sa.String(length=3), nullable=False),
        sa.Column("party_doc_number", sa.String(length=15), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("fob_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_import_history")),
    )
    with op.batch_alter_table("import_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_history_party",
            ["party_doc_type", "party_doc_number", "year"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("import_history", schema=None) as batch_op:
        batch_op.drop_index("ix_import_history_party")
    op.drop_table("import_history")
    op.drop_table("channel_months")
