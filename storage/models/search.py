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
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "name, content='households', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON households BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, name) VALUES (new.id, new.name); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON households BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name) VALUES ('delete', old.id, old.name); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF name ON households BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name) VALUES ('delete', old.id, old.name); "
    f"INSERT INTO {FTS_TABLE}(rowid, name) VALUES (new.id, new.name); END",
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{t}" for t in ("ai", "ad", "au")),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON households USING gin (name gin_trgm_ops)",
]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {TRGM_INDEX}"]


def statements(dialect: str) -> list[str]:
    """The DDL that builds the name index on this dialect."""
    return {"sqlite": SQLITE, "postgresql": POSTGRES}.get(dialect, [])


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's filter: the name index's objects are not in the models (see the module doc)."""
    return not (name or "").startswith((FTS_TABLE, TRGM_INDEX))


for _dialect in ("sqlite", "postgresql"):
    for _sql in statements(_dialect):
        event.listen(Household.__table__, "after_create", DDL(_sql).execute_if(dialect=_dialect))
