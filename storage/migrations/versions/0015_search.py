"""the name index keyed by desa code: a scope is a key range of the index, searches stop early

0008's index was keyed by household id, so an officer's search matched the whole register and
then dropped what lay outside the region, and counted and sorted every match. The index now
keys each household by its padded desa code and id (storage/models/search.py); it is rebuilt
here from the households there are.

Revision ID: 0015_search
Revises: 0014_impjobs
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import search

revision = "0015_search"
down_revision = "0014_impjobs"
branch_labels = None
depends_on = None


def _run(statements: list[str]) -> None:
    """Each statement in turn."""
    for sql in statements:
        op.execute(sa.text(sql))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(search.SQLITE_DROP if dialect == "sqlite" else search.POSTGRES_DROP)
    _run(search.keyed_statements(dialect))
    _run(search.keyed_rebuild(dialect))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(search.keyed_drop(dialect))
    _run(search.statements(dialect))
    if dialect == "sqlite":
        op.execute(sa.text(search.SQLITE_REBUILD))
