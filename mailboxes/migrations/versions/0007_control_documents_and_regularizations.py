"""control document uses and regularizations

The control documents of accepted declarations (single use, seed 003 VI.10) and the urgent and
anticipado-04 dispatches with their regularization deadline (seed 004 VI.15, VII.B.13), and the
premises found unfit for the examination, code 44 (seed 004 VII.A.51).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_document_uses",
        sa.Column("entity_code", sa.String(length=2), nullable=False),
        sa.Column("document_code", sa.String(length=2), nullable=False),
        sa.Column("number", sa.String(length=35), nullable=False),
        sa.Column("declaration_number", sa.String(length=18), nullable=False),
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "entity_code", "document_code", "number", name=op.f("pk_control_document_uses")
        ),
    )
    op.create_table(
        "regularizations",
        sa.Column("declaration_number", sa.String(length=18), nullable=False),
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.Column("party_doc_type", sa.String(length=3), nullable=False),
        sa.Column("party_doc_number", sa.String(length=15), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("regularized_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("declaration_number", name=op.f("pk_regularizations")),
    )
    op.create_table(
        "unfit_premises",
        sa.Column("party_doc_type", sa.String(length=3), nullable=False),
        sa.Column("party_doc_number", sa.String(length=15), nullable=False),
        sa.Column("establishment", sa.String(length=4), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("cleared_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint(
            "party_doc_type",
            "party_doc_number",
            "establishment",
            "recorded_on",
            name=op.f("pk_unfit_premises"),
        ),
    )
    with op.batch_alter_table("regularizations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_regularizations_party",
            ["party_doc_type", "party_doc_number", "kind"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("regularizations", schema=None) as batch_op:
        batch_op.drop_index("ix_regularizations_party")
    op.drop_table("unfit_premises")
    op.drop_table("regularizations")
    op.drop_table("control_document_uses")
