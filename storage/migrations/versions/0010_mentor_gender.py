"""mentor gender: the mentors roster's optional jenis_kelamin, so households read "Ibu Rina"

Revision ID: 0010_mentor_gender
Revises: 0009_coop
Create Date: 2026-12-02 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_mentor_gender"
down_revision = "0009_coop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentors") as batch:
        batch.add_column(sa.Column("gender", sa.String(length=1), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentors") as batch:
        batch.drop_column("gender")
