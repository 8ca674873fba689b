"""region targets: the graduation target (angka graduasi) of a region for a year, for the coordinators

Revision ID: 0005_coord
Revises: 0004_rights2
Create Date: 2026-12-02 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base


revision = "0005_coord"
down_revision = "0004_rights2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "region_targets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("graduations", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_targets")),
        sa.UniqueConstraint("region_code", "year", name=op.f("uq_region_targets_region_code_year")),
    )


def downgrade() -> None:
    op.drop_table("region_targets")
