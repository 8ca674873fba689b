"""vulnerable escalations: an escalation remembers that its household is one the programs put first

Revision ID: 0006_vuln
Revises: 0005_coord
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_vuln"
down_revision = "0005_coord"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(
            sa.Column("vulnerable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.drop_index("ix_escalations_queue")
        batch.create_index(
            "ix_escalations_queue", ["state", "region_code", "vulnerable", "sla_due"], unique=False
        )
    # Escalations opened before this knew nothing of it: mark those of vulnerable households.
    op.execute(
        "UPDATE escalations SET vulnerable = TRUE WHERE household_id IN ("
        "SELECT id FROM households WHERE COALESCE(categories, '') <> '' OR desil = 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_queue")
        batch.create_index(
            "ix_escalations_queue", ["state", "region_code", "sla_due"], unique=False
        )
        batch.drop_column("vulnerable")
