"""coordination summaries: counts per area written hourly, read by the coordinator pages

Revision ID: 0016_coordsum
Revises: 0015_search
Create Date: 2026-12-03 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0016_coordsum"
down_revision = "0015_search"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _area(*columns: sa.Column) -> list[sa.Column]:
    """An area's level and code, then `columns`."""
    return [
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        *columns,
    ]


def upgrade() -> None:
    op.create_table(
        "coordination_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("computed_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordination_runs")),
    )
    op.create_table(
        "coordination_areas",
        *_area(
            sa.Column("households", sa.Integer(), nullable=False),
            sa.Column("silent", sa.Integer(), nullable=False),
            sa.Column("graduates", sa.Integer(), nullable=False),
            sa.Column("relapsed", sa.Integer(), nullable=False),
            sa.Column("median_days", sa.Integer(), nullable=True),
        ),
        sa.PrimaryKeyConstraint("level", "code", name=op.f("pk_coordination_areas")),
    )
    op.create_table(
        "coordination_stages",
        *_area(
            sa.Column("stage", sa.String(length=24), nullable=False),
            sa.Column("households", sa.Integer(), nullable=False),
        ),
        sa.PrimaryKeyConstraint("level", "code", "stage", name=op.f("pk_coordination_stages")),
    )
    op.create_table(
        "coordination_graduations",
        *_area(
            sa.Column("year", sa.SmallInteger(), nullable=False),
            sa.Column("graduated", sa.Integer(), nullable=False),
        ),
        sa.PrimaryKeyConstraint("level", "code", "year", name=op.f("pk_coordination_graduations")),
    )
    op.create_table(
        "coordination_offices",
        *_area(
            sa.Column("office", sa.String(length=120), nullable=False),
            sa.Column("sent", sa.Integer(), nullable=False),
            sa.Column("accepted", sa.Integer(), nullable=False),
            sa.Column("completed", sa.Integer(), nullable=False),
            sa.Column("declined", sa.Integer(), nullable=False),
            sa.Column("overdue", sa.Integer(), nullable=False),
        ),
        sa.PrimaryKeyConstraint("level", "code", "office", name=op.f("pk_coordination_offices")),
    )


def downgrade() -> None:
    for table in (
        "coordination_offices",
        "coordination_graduations",
        "coordination_stages",
        "coordination_areas",
        "coordination_runs",
    ):
        op.drop_table(table)
