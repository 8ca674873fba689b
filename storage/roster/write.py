"""Writing validated rows: set-based upserts per batch, and one row at a time only when a batch fails."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from storage.db import is_postgres
from storage.roster.report import N_, ImportReport

log = logging.getLogger(__name__)
Pending = tuple[int, dict[str, Any], bool]  # (line, table values, already in the database)


def one_of(session: AsyncSession, column: Any, keys: Collection[Any]) -> ColumnElement[bool]:
    """`column IN (keys)`; on PostgreSQL `= ANY(array)`: one parameter instead of a chunk's
    thousands, measured 2.5x faster per chunk lookup (each parameter is bound and parsed)."""
    if is_postgres(session):
        return column == any_(bindparam(None, list(keys), type_=ARRAY(column.type)))
    return cast(ColumnElement[bool], column.in_(keys))


def upsert(
    session: AsyncSession,
    table: Table,
    keys: list[str],
    columns: list[str],
    special: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Insert:
    """INSERT … ON CONFLICT (keys) DO UPDATE of `columns`, in this database's dialect."""
    stmt = (pg_insert if is_postgres(session) else sqlite_insert)(table)
    values = {c: stmt.excluded[c] for c in columns if c not in keys}
    for column, make in (special or {}).items():
        values[column] = make(stmt.excluded)
    return stmt.on_conflict_do_update(index_elements=keys, set_=values)


async def write_batch(
    session: AsyncSession, stmt: Insert, rows: list[Pending], report: ImportReport
) -> None:
    """New rows by plain INSERT, known ones by the upsert; if the database refuses, row by row.

    A plain INSERT is much cheaper than an upsert on SQLite; a row that another import added
    meanwhile makes the batch fail, and the one-by-one retry upserts it.
    """
    if not rows:
        return
    fresh = [values for _, values, exists in rows if not exists]
    known = [values for _, values, exists in rows if exists]
    try:
        async with session.begin_nested():
            if fresh:
                await session.execute(insert(stmt.table), fresh)
            if known:
                await session.execute(stmt, known)
    except DBAPIError as exc:
        # Never log the database's message: it may quote the row's personal data.
        log.warning(
            "roster batch of %d refused (%s); retrying row by row", len(rows), type(exc).__name__
        )
        await _write_one_by_one(session, stmt, rows, report)
        return
    tally(report, rows)


async def _write_one_by_one(
    session: AsyncSession, stmt: Insert, rows: list[Pending], report: ImportReport
) -> None:
    """Each row in its own savepoint; a refused row is reported and the others are kept."""
    for line, values, exists in rows:
        try:
            async with session.begin_nested():
                await session.execute(stmt, [values])
        except DBAPIError:
            report.refuse(line, [(N_("the database refused this row"), {})])
            continue
        tally(report, [(line, values, exists)])


def tally(report: ImportReport, rows: list[Pending]) -> None:
    """Add written rows to the created and updated counts."""
    updated = sum(1 for _, _, exists in rows if exists)
    report.updated += updated
    report.created += len(rows) - updated
