"""Roster import: households, mentors and programs from CSV or XLSX, as idempotent batched upserts.

    report = await import_roster(session, "households", path, "kpm.csv", vault=vault, now=now)

The file (a path, streamed row by row, or an upload's bytes) is read in chunks of BATCH; memory
stays flat however many rows it has. Valid rows are written (the caller commits), bad rows are reported with their line and
reasons as msgids, so the CLI and the admin page each render them in their reader's language.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.crypto import NikVault
from storage.roster.kinds import IMPORTERS, Importer
from storage.roster.read import Row, Source, open_roster
from storage.roster.report import N_, ImportReport, Problem, RosterFileError
from storage.roster.rules import REQUIRED
from storage.roster.scope import outside_rows
from storage.scope import Scope

KINDS = tuple(IMPORTERS)
BATCH = 2000  # rows per upsert: big enough to be set-based, small enough to retry one by one

__all__ = ["KINDS", "ImportReport", "Problem", "count_rows", "import_roster"]


def count_rows(source: Source, filename: str) -> int:
    """How many data rows the file has (0 when it cannot be read: the import says why)."""
    try:
        _keys, rows = open_roster(source, filename)
        return sum(1 for _ in rows)
    except RosterFileError:
        return 0


async def import_roster(
    session: AsyncSession,
    kind: str,
    source: Source,
    filename: str,
    *,
    vault: NikVault,
    now: datetime,
    dry_run: bool = False,
    actor: str = "cli",
    scope: Scope | None = None,
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Validate every row, write the good ones in batches, and say what happened to each bad one.

    With a staff member's scope, a row outside it (by code or by key) is refused like any bad
    row, with its reason, and never reaches the writer; the other good rows are written.
    `progress` is told how many rows each batch held, once it is written (a terminal's progress
    bar, the page's for a big file); when it returns an awaitable, that is awaited.
    """
    outside = [] if scope is None else await outside_rows(session, scope, kind, source, filename)
    report = ImportReport(kind=kind, dry_run=dry_run)
    importer = IMPORTERS[kind](session, report, vault=vault, now=now, dry_run=dry_run)
    await importer.prepare()
    await importer.remember_keys()
    try:
        keys, rows = open_roster(source, filename)
        _check_columns(kind, keys)
        await _pipeline(importer, rows, report, _by_line(outside), progress)
    except RosterFileError as exc:
        report.problems.append(Problem(0, exc.msgid, exc.params))
    await importer.forget_keys()  # (on an error the rollback drops the table with the rest)
    await importer.finish()
    if not dry_run:
        audit.record(
            session,
            actor=actor,
            action="roster_import",
            now=now,
            kind=kind,
            created=report.created,
            updated=report.updated,
            rejected=report.rejected,
        )
    return report


def _check_columns(kind: str, keys: list[str]) -> None:
    """Refuse the whole file when a required column is missing: every row would fail anyway."""
    missing = [column for column in REQUIRED[kind] if column not in keys]
    if missing:
        raise RosterFileError(
            N_("Required columns are missing: {columns}"), columns=", ".join(missing)
        )


def _by_line(problems: list[Problem]) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    """The reasons of the rows refused before checking (outside the scope), by line."""
    found: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for p in problems:
        found.setdefault(p.line, []).append((p.msgid, p.params))
    return found


async def _pipeline(
    importer: Importer,
    rows: Iterator[Row],
    report: ImportReport,
    refused_first: dict[int, list[tuple[str, dict[str, Any]]]],
    progress: Callable[[int], object] | None,
) -> None:
    """Check a chunk, then write its good rows in one batch; rows refused first are only counted.

    (Checking chunk N+1 in a thread while chunk N is written was measured: slower on SQLite,
    the two fight over the GIL.)
    """
    for chunk in _chunks(rows):
        for line, cells in chunk:
            report.count_place(cells.get("kode_wilayah", ""))
            if line in refused_first:
                report.refuse(line, refused_first[line])
        good, refused = await importer.validate([r for r in chunk if r[0] not in refused_first])
        for line, why in refused:
            report.refuse(line, why)
        await importer.write(good)
        told = progress(len(chunk)) if progress is not None else None
        if inspect.isawaitable(told):
            await told


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    """The rows in chunks of BATCH; when the file breaks, the rows read before the break still
    come (checked and written like the others) before the error says where it broke."""
    chunk: list[Row] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) == BATCH:
                yield chunk
                chunk = []
    except RosterFileError:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk
