"""request deadlines: a request the law gives a time limit (HAPUS DATA: 3×24 hours) keeps it

Revision ID: 0003_request_deadlines
Revises: 0002_channel_pauses
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0003_request_deadlines"
down_revision = "0002_channel_pauses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(
            sa.Column("due_at", storage.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("due_at")
