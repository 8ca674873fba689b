"""request deadlines and proposals: HAPUS DATA's 3×24-hour limit; families proposed from a chat

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
    op.create_table(
        "proposals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column(
            "identity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", storage.models.base.FreeText(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("about", storage.models.base.FreeText(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", storage.models.base.FreeText(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["chat_identities.id"],
            name=op.f("fk_proposals_identity_id_chat_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("reference", name=op.f("uq_proposals_reference")),
    )
    for column in ("identity_id", "phone", "region_code", "created_at"):
        op.create_index(op.f(f"ix_proposals_{column}"), "proposals", [column], unique=False)


def downgrade() -> None:
    op.drop_table("proposals")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("due_at")
