"""partner chats: a partner's own phone on their account, and the chat linked to that account

Revision ID: 0013_partner
Revises: 0012_reqby
Create Date: 2026-12-02 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_partner"
down_revision = "0012_reqby"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_staff_users_phone"), ["phone"])
    with op.batch_alter_table("chat_identities") as batch_op:
        batch_op.add_column(sa.Column("staff_id", ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_chat_identities_staff_id"), ["staff_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_chat_identities_staff_id_staff_users"),
            "staff_users",
            ["staff_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_identities") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_chat_identities_staff_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_chat_identities_staff_id"))
        batch_op.drop_column("staff_id")
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_phone"))
        batch_op.drop_column("phone")
