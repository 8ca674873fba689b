"""data corrections' outcomes: corrected here, forwarded to DTSEN (with the expected date), rejected

Revision ID: 0004_rights2
Revises: 0003_request_deadlines
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rights2"
down_revision = "0003_request_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("expected_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("expected_on")
        batch.drop_column("outcome")
