"""intake job turns

Each pending job's place in the queue, which the pipeline reads by turn so that one
sender's backlog does not hold every other sender's declarations (``mailboxes.sender_turns``).
Jobs already queued keep turn 0: they are taken first, in the order they came.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_jobs") as batch:
        batch.add_column(sa.Column("turn", sa.BigInteger(), server_default="0", nullable=False))
        batch.create_index("ix_intake_jobs_state_turn_id", ["state", "turn", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_jobs") as batch:
        batch.drop_index("ix_intake_jobs_state_turn_id")
        batch.drop_column("turn")
