"""shared pacing: a channel's next send slot and a chat's next send time, booked with the claim

Revision ID: 0017_pace
Revises: 0016_coordsum
Create Date: 2026-12-03 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0017_pace"
down_revision = "0016_coordsum"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_paces",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("next_slot_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_paces")),
    )
    with op.batch_alter_table("chat_identities") as batch_op:
        batch_op.add_column(
            sa.Column("next_send_at", storage.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_identities") as batch_op:
        batch_op.drop_column("next_send_at")
    op.drop_table("channel_paces")
