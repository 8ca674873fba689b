"""the graduates' community: businesses listed with consent, peer mentors and their pairings

Revision ID: 0011_alumni
Revises: 0010_mentor_gender
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0011_alumni"
down_revision = "0010_mentor_gender"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alumni_listings",
        sa.Column("id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("business_name", storage.models.base.FreeText(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=True),
        sa.Column("share_phone", sa.Boolean(), nullable=False),
        sa.Column("listed_at", WHEN, nullable=True),
        sa.Column("withdrawn_at", WHEN, nullable=True),
        sa.Column("peer_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_alumni_listings_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alumni_listings")),
        sa.UniqueConstraint("household_id", name=op.f("uq_alumni_listings_household_id")),
    )
    with op.batch_alter_table("alumni_listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alumni_listings_listed_at"), ["listed_at"])
        batch_op.create_index(batch_op.f("ix_alumni_listings_region_code"), ["region_code"])
    op.create_table(
        "peer_pairings",
        sa.Column("id", ID, nullable=False),
        sa.Column("peer_household_id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=False),
        sa.Column("mentor_id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_peer_pairings_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["peer_household_id"],
            ["households.id"],
            name=op.f("fk_peer_pairings_peer_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["mentors.id"], name=op.f("fk_peer_pairings_mentor_id_mentors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_pairings")),
        sa.UniqueConstraint(
            "peer_household_id",
            "household_id",
            name=op.f("uq_peer_pairings_peer_household_id_household_id"),
        ),
    )
    with op.batch_alter_table("peer_pairings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_peer_pairings_household_id"), ["household_id"])
        batch_op.create_index(
            batch_op.f("ix_peer_pairings_peer_household_id"), ["peer_household_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("peer_pairings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_peer_pairings_peer_household_id"))
        batch_op.drop_index(batch_op.f("ix_peer_pairings_household_id"))
    op.drop_table("peer_pairings")
    with op.batch_alter_table("alumni_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alumni_listings_region_code"))
        batch_op.drop_index(batch_op.f("ix_alumni_listings_listed_at"))
    op.drop_table("alumni_listings")
