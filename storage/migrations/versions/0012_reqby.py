"""request filer: who filed a service request (the family's chat, its mentor or an officer)

Revision ID: 0012_reqby
Revises: 0011_alumni
Create Date: 2026-12-02 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reqby"
down_revision = "0011_alumni"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for the requests filed before: every one of them came from the family's own chat.
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("filed_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("filed_by")
