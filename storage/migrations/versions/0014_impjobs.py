"""import jobs: roster imports in the database (progress, heartbeat, the sealed file and reports)

Revision ID: 0014_impjobs
Revises: 0013_partner
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0014_impjobs"
down_revision = "0013_partner"
branch_labels = None
depends_on = None

WHEN = storage.models.base.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("upload", sa.Text(), nullable=True),
        sa.Column("preview", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("heartbeat_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_import_jobs_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index("ix_import_jobs_staff", "import_jobs", ["staff_id", "created_at"])
    op.create_index("ix_import_jobs_state", "import_jobs", ["state", "heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_import_jobs_state", table_name="import_jobs")
    op.drop_index("ix_import_jobs_staff", table_name="import_jobs")
    op.drop_table("import_jobs")
