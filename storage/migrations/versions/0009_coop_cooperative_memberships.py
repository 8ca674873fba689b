"""cooperative memberships: a household applies, the cooperative's pengurus verify it and record simpanan pokok and wajib; a cooperative's amounts

Revision ID: 0009_coop
Revises: 0008_scope_search
Create Date: 2026-12-02 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base


revision = "0009_coop"
down_revision = "0008_scope_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memberships",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", storage.models.base.FreeText(), nullable=True),
        sa.Column("applied_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("member_since", sa.Date(), nullable=True),
        sa.Column("verified_by", sa.String(length=80), nullable=True),
        sa.Column("pokok_paid_on", sa.Date(), nullable=True),
        sa.Column("wajib_paid_through", sa.String(length=7), nullable=True),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_memberships_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_memberships_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_memberships_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "household_id",
            "organisation_id",
            name=op.f("uq_memberships_household_id_organisation_id"),
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_memberships_organisation_id"), ["organisation_id"], unique=False
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simpanan_pokok", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("simpanan_wajib", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("simpanan_wajib")
        batch_op.drop_column("simpanan_pokok")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_household_id"))

    op.drop_table("memberships")
