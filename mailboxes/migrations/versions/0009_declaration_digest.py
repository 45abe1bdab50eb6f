"""declaration digest

The digest of the document an answer was given for, so that a different declaration sent
under an accepted reference is told apart from the same one sent again (rule DUP). Answers
recorded before this migration have none, and are treated as the same document.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("document_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("document_digest")
