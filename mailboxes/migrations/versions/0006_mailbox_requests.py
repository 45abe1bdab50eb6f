"""mailbox requests and agents' office scope

Requests for a mailbox received by mail at the registration address, with the office's
decision (who, when, why), and the offices each approved agent mailbox was granted for.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_requests",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requester", sa.String(length=320), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("agent_code", sa.String(length=16), nullable=False),
        sa.Column("agency", sa.String(length=255), nullable=False),
        sa.Column("ruc", sa.String(length=11), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=False),
        sa.Column("offices", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_requests")),
    )
    op.create_index("ix_mailbox_requests_state", "mailbox_requests", ["state"])
    op.create_table(
        "account_offices",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("office_code", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("address", "office_code", name=op.f("pk_account_offices")),
    )


def downgrade() -> None:
    op.drop_table("account_offices")
    op.drop_index("ix_mailbox_requests_state", table_name="mailbox_requests")
    op.drop_table("mailbox_requests")
