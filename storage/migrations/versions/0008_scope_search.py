"""scope at four levels and a name index: escalations under the desa code; FTS5 / pg_trgm on names

Escalations were written under the kabupaten's 4 digits, so a kecamatan or desa officer saw
none of them; they now carry their household's full code. The households' name gets the
database's own text index (storage/models/search.py), built here for existing rows.

Revision ID: 0008_scope_search
Revises: 0007_orgs
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import search

revision = "0008_scope_search"
down_revision = "0007_orgs"
branch_labels = None
depends_on = None

FULL_CODE = sa.text(
    "UPDATE escalations SET region_code = "
    "(SELECT h.region_code FROM households h WHERE h.id = escalations.household_id) "
    "WHERE EXISTS (SELECT 1 FROM households h WHERE h.id = escalations.household_id "
    "AND h.region_code <> escalations.region_code)"
)


def upgrade() -> None:
    op.execute(FULL_CODE)
    dialect = op.get_bind().dialect.name
    for sql in search.statements(dialect):
        op.execute(sa.text(sql))
    if dialect == "sqlite":
        op.execute(sa.text(search.SQLITE_REBUILD))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for sql in search.SQLITE_DROP if dialect == "sqlite" else search.POSTGRES_DROP:
        op.execute(sa.text(sql))
    # The escalations keep their full codes: a 4-digit prefix of them is what 0003 showed too.
