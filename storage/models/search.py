"""The households' name index, keyed by desa code: FTS5 trigram on SQLite, pg_trgm on PostgreSQL.

Each household has one row in `households_fts` under a key that sorts by region first: its
10-digit desa code (kode_wilayah, right-padded with zeros) times KEY_SPAN, plus its id. A staff
scope (a code prefix) is then one key range of the index, and matches come out in region order,
so a search stops at its page (or its count's cap) instead of matching the whole register and
filtering the region afterwards. On SQLite the table is an FTS5 trigram table whose rowid is the
key; on PostgreSQL a table (key, name) with a pg_trgm GIN index on the name and the key as its
primary key. Triggers on `households` keep it in step with every insert, rename, desa move and
delete, so every writer (roster import, the ORM) keeps it right without knowing it exists; an
erasure removes the household's row (`forget`).

Neither is a table SQLAlchemy can describe, so both are DDL run after `households` is created,
and Alembic's comparison leaves them out. `SQLITE`, `POSTGRES`, `statements` and their drops are
the unkeyed index as migration 0008 built it (kept as they were: migrations are frozen); 0015
replaces it with the keyed one.
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
    """The DDL that built the unkeyed name index on this dialect (migration 0008)."""
    return {"sqlite": SQLITE, "postgresql": POSTGRES}.get(dialect, [])


# The keyed index (migration 0015) -----------------------------------------------------------

# Ids below 10^8 fit beside a 10-digit code in a signed 64-bit key (9,999,999,999 × 10^8 < 2^63).
KEY_SPAN = 100_000_000
CODE_DIGITS = 10


def _sqlite_key(row: str) -> str:
    """The key of `row` (new/old) in SQLite: its padded desa code, then its id."""
    code = f"substr({row}.region_code || '0000000000', 1, {CODE_DIGITS})"
    return f"(CAST({code} AS INTEGER) * {KEY_SPAN} + {row}.id)"


def _postgres_key(row: str) -> str:
    """The key of `row` in PostgreSQL (a code that is not digits sorts before every region)."""
    code = f"rpad({row}.region_code, {CODE_DIGITS}, '0')"
    digits = f"{row}.region_code ~ '^[0-9]{{1,{CODE_DIGITS}}}$'"
    return f"((CASE WHEN {digits} THEN {code}::bigint ELSE 0 END) * {KEY_SPAN} + {row}.id)"


_CHANGED = "old.name IS NOT new.name OR old.region_code IS NOT new.region_code"
_TOO_BIG = (
    f"SELECT RAISE(ABORT, 'household id too large for the search key') WHERE new.id >= {KEY_SPAN};"
)
KEYED_SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS households_fts USING fts5(name, tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS households_fts_ai AFTER INSERT ON households BEGIN "
    f"{_TOO_BIG} "
    f"INSERT INTO households_fts(rowid, name) VALUES ({_sqlite_key('new')}, new.name); END",
    "CREATE TRIGGER IF NOT EXISTS households_fts_ad AFTER DELETE ON households BEGIN "
    f"DELETE FROM households_fts WHERE rowid = {_sqlite_key('old')}; END",
    # Only a real change: a re-import that rewrites the same name and desa leaves the index be.
    "CREATE TRIGGER IF NOT EXISTS households_fts_au AFTER UPDATE OF name, region_code "
    f"ON households WHEN {_CHANGED} BEGIN "
    f"DELETE FROM households_fts WHERE rowid = {_sqlite_key('old')}; "
    f"INSERT INTO households_fts(rowid, name) VALUES ({_sqlite_key('new')}, new.name); END",
]
KEYED_SQLITE_REBUILD = [
    "DELETE FROM households_fts",
    f"INSERT INTO households_fts(rowid, name) SELECT {_sqlite_key('households')}, name "
    "FROM households ORDER BY 1",
]
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION households_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF TG_OP <> 'INSERT' THEN "
    f"DELETE FROM households_fts WHERE key = {_postgres_key('OLD')}; END IF; "
    "IF TG_OP <> 'DELETE' THEN "
    f"IF NEW.id >= {KEY_SPAN} THEN "
    "RAISE EXCEPTION 'household id too large for the search key'; END IF; "
    f"INSERT INTO households_fts(key, name) VALUES ({_postgres_key('NEW')}, NEW.name); END IF; "
    "RETURN NULL; END $$"
)
_PG_CHANGED = (
    "OLD.name IS DISTINCT FROM NEW.name OR OLD.region_code IS DISTINCT FROM NEW.region_code"
)
KEYED_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE IF NOT EXISTS households_fts (key bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS households_fts_name_trgm ON households_fts "
    "USING gin (name gin_trgm_ops)",
    _PG_FUNCTION,
    "DROP TRIGGER IF EXISTS households_fts_ai ON households",
    "CREATE TRIGGER households_fts_ai AFTER INSERT ON households "
    "FOR EACH ROW EXECUTE FUNCTION households_fts_sync()",
    "DROP TRIGGER IF EXISTS households_fts_ad ON households",
    "CREATE TRIGGER households_fts_ad AFTER DELETE ON households "
    "FOR EACH ROW EXECUTE FUNCTION households_fts_sync()",
    # TRUNCATE fires no row trigger: the index goes with the rows (tests empty tables this way).
    "CREATE OR REPLACE FUNCTION households_fts_clear() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN TRUNCATE households_fts; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS households_fts_at ON households",
    "CREATE TRIGGER households_fts_at AFTER TRUNCATE ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION households_fts_clear()",
    "DROP TRIGGER IF EXISTS households_fts_au ON households",
    "CREATE TRIGGER households_fts_au AFTER UPDATE OF name, region_code ON households "
    f"FOR EACH ROW WHEN ({_PG_CHANGED}) EXECUTE FUNCTION households_fts_sync()",
]
KEYED_POSTGRES_REBUILD = [
    "TRUNCATE households_fts",
    f"INSERT INTO households_fts(key, name) SELECT {_postgres_key('households')}, name "
    "FROM households",
    "ANALYZE households_fts",
]
KEYED_POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS households_fts_ai ON households",
    "DROP TRIGGER IF EXISTS households_fts_ad ON households",
    "DROP TRIGGER IF EXISTS households_fts_au ON households",
    "DROP TRIGGER IF EXISTS households_fts_at ON households",
    "DROP FUNCTION IF EXISTS households_fts_sync()",
    "DROP FUNCTION IF EXISTS households_fts_clear()",
    "DROP TABLE IF EXISTS households_fts",
]


def keyed_statements(dialect: str) -> list[str]:
    """The DDL that builds the keyed name index on this dialect."""
    return {"sqlite": KEYED_SQLITE, "postgresql": KEYED_POSTGRES}.get(dialect, [])


def keyed_rebuild(dialect: str) -> list[str]:
    """The statements that fill the keyed index from the households there are."""
    return {"sqlite": KEYED_SQLITE_REBUILD, "postgresql": KEYED_POSTGRES_REBUILD}.get(dialect, [])


def keyed_drop(dialect: str) -> list[str]:
    """The statements that remove the keyed index."""
    return {"sqlite": SQLITE_DROP, "postgresql": KEYED_POSTGRES_DROP}.get(dialect, [])


# noqa: S608 - constants only
FORGET = {
    "sqlite": "DELETE FROM households_fts WHERE rowid = "
    f"(SELECT {_sqlite_key('households')} FROM households WHERE households.id = :id)",
    "postgresql": "DELETE FROM households_fts WHERE key = "
    f"(SELECT {_postgres_key('households')} FROM households WHERE households.id = :id)",
}


def key_of(region_code: str, household_id: int) -> int:
    """A household's key in the index, as the triggers compute it (for a region code of digits)."""
    return int((region_code + "0" * CODE_DIGITS)[:CODE_DIGITS]) * KEY_SPAN + household_id


def key_range(prefix: str) -> tuple[int, int]:
    """The keys of the households whose desa code starts with `prefix`: [low, high)."""
    if not prefix:
        return 0, 10**CODE_DIGITS * KEY_SPAN
    low = int((prefix + "0" * CODE_DIGITS)[:CODE_DIGITS])
    return low * KEY_SPAN, (low + 10 ** (CODE_DIGITS - len(prefix))) * KEY_SPAN


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's filter: the name index's objects are not in the models (see the module doc)."""
    return not (name or "").startswith((FTS_TABLE, TRGM_INDEX))


for _dialect in ("sqlite", "postgresql"):
    for _sql in keyed_statements(_dialect):
        event.listen(Household.__table__, "after_create", DDL(_sql).execute_if(dialect=_dialect))
