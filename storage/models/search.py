"""The households' name index: FTS5 trigram on SQLite, a pg_trgm GIN index on PostgreSQL.

Neither is a table SQLAlchemy can describe, so both are DDL run after `households` is created
(by `create_all` and by migration 0004 alike), and Alembic's comparison leaves them out.
On SQLite the index is an external-content FTS5 table kept in step by triggers, so every
writer (roster import, erasure, the ORM) keeps it right without knowing it exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, event

from storage.models.people import Household

FTS_TABLE = "households_fts"
TRGM_INDEX = "ix_households_name_trgm"
MIN_TERM = 3  # a trigram index finds nothing shorter than one trigram

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS households_fts USING fts5("
    "name, content='households', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS households_fts_ai AFTER INSERT ON households BEGIN "
    "INSERT INTO households_fts(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER IF NOT EXISTS households_fts_ad AFTER DELETE ON households BEGIN "
    "INSERT INTO households_fts(households_fts, rowid, name) "
    "VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER IF NOT EXISTS households_fts_au AFTER UPDATE OF name ON households BEGIN "
    "INSERT INTO households_fts(households_fts, rowid, name) "
    "VALUES ('delete', old.id, old.name); "
    "INSERT INTO households_fts(rowid, name) VALUES (new.id, new.name); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS households_fts_ai",
    "DROP TRIGGER IF EXISTS households_fts_ad",
    "DROP TRIGGER IF EXISTS households_fts_au",
    "DROP TABLE IF EXISTS households_fts",
]
SQLITE_REBUILD = "INSERT INTO households_fts(households_fts) VALUES ('rebuild')"
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_households_name_trgm ON households "
    "USING gin (name gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_households_name_trgm"]


def statements(dialect: str) -> list[str]:
    """The DDL that builds the name index on this dialect."""
    return {"sqlite": SQLITE, "postgresql": POSTGRES}.get(dialect, [])


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's filter: the name index's objects are not in the models (see the module doc)."""
    return not (name or "").startswith((FTS_TABLE, TRGM_INDEX))


for _dialect in ("sqlite", "postgresql"):
    for _sql in statements(_dialect):
        event.listen(Household.__table__, "after_create", DDL(_sql).execute_if(dialect=_dialect))
