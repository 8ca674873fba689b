"""organisations and tracked referrals: offices as data, partner staff, a referral's whole life

Revision ID: 0007_orgs
Revises: 0006_vuln
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0007_orgs"
down_revision = "0006_vuln"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = storage.models.base.UTCDateTime(timezone=True)
TEXT = storage.models.base.FreeText()


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    for column in ("region_code", "phone"):
        op.create_index(op.f(f"ix_organisations_{column}"), "organisations", [column])
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("organisation_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_staff_users_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("organisation_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("request_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("escalation_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("why", TEXT, nullable=True))
        batch.add_column(sa.Column("referred_by_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("answer_by", sa.Date(), nullable=True))
        batch.add_column(sa.Column("plan", TEXT, nullable=True))
        batch.add_column(sa.Column("plan_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reason", TEXT, nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("reminded_at", MOMENT, nullable=True))
        for column, table in (
            ("organisation_id", "organisations"),
            ("request_id", "service_requests"),
            ("escalation_id", "escalations"),
            ("referred_by_id", "staff_users"),
        ):
            batch.create_foreign_key(
                op.f(f"fk_referrals_{column}_{table}"), table, [column], ["id"]
            )
        batch.create_index(op.f("ix_referrals_organisation_id"), ["organisation_id"])
        batch.create_index(op.f("ix_referrals_request_id"), ["request_id"])
        batch.create_index("ix_referrals_overdue", ["state", "reminded_at", "answer_by"])


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index("ix_referrals_overdue")
        batch.drop_index(op.f("ix_referrals_request_id"))
        batch.drop_index(op.f("ix_referrals_organisation_id"))
        for column, table in (
            ("organisation_id", "organisations"),
            ("request_id", "service_requests"),
            ("escalation_id", "escalations"),
            ("referred_by_id", "staff_users"),
        ):
            batch.drop_constraint(op.f(f"fk_referrals_{column}_{table}"), type_="foreignkey")
        for column in (
            "reminded_at",
            "answered_by",
            "outcome",
            "reason",
            "plan_date",
            "plan",
            "answer_by",
            "referred_by_id",
            "why",
            "escalation_id",
            "request_id",
            "organisation_id",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_constraint(
            op.f("fk_staff_users_organisation_id_organisations"), type_="foreignkey"
        )
        batch.drop_column("organisation_id")
    op.drop_table("organisations")
