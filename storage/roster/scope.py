"""The rows of a roster an officer may not write: outside their region by its code, or by its key.

An upsert keyed on `no_kk` (or `no_hp`) would move a record of another region into the
officer's own when the row carries the officer's code: such a row is refused exactly like a row
with a foreign code, with the same words, so the preview does not tell whether the key exists
elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, Mentor, Organisation
from storage.normalize import region_code, sixteen_digits
from storage.roster.read import Source, open_roster
from storage.roster.report import N_, Problem, RosterFileError
from storage.roster.rules import roster_phone
from storage.scope import Scope, region_filter, scoped

# The same words for a foreign code and for a key of another region's record, with the row's own
# values: the officer sees what they uploaded, and nothing says whether the key exists elsewhere.
OUTSIDE = N_("This row lies outside your region: {column} {key}, kode_wilayah {code}")
NOT_OURS = N_("No. KK {no_kk} is not a household of your region")
LOOKUP_BATCH = 5000  # keys per IN (…): well under SQLite's limit of bound parameters

# kind → (model, key column of the file, key column of the table, how the file's key is read)
KEYED: dict[str, tuple[Any, str, Any, Callable[[str], str | None]]] = {
    "households": (Household, "no_kk", Household.no_kk, sixteen_digits),
    "mentors": (Mentor, "no_hp", Mentor.phone, roster_phone),
    "organisations": (
        Organisation,
        "kode",
        Organisation.code,
        lambda raw: raw.strip().upper() or None,
    ),
}


async def outside_rows(
    session: AsyncSession, scope: Scope, kind: str, source: Source, filename: str
) -> list[Problem]:
    """Every row this staff member may not write, each refused like any other bad row.

    The file is read in chunks (memory stays flat); when it breaks part way, the rows before the
    break are still checked, since the import writes those.
    """
    try:
        _keys, rows = open_roster(source, filename)
    except RosterFileError:
        return []  # the import itself reports the broken file
    problems: list[Problem] = []
    chunk: list[tuple[int, dict[str, str]]] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) == LOOKUP_BATCH:
                problems += await _outside(session, scope, kind, chunk)
                chunk = []
    except RosterFileError:
        pass  # the import reports the break and stops there
    return problems + await _outside(session, scope, kind, chunk)


async def _outside(
    session: AsyncSession, scope: Scope, kind: str, cells: list[tuple[int, dict[str, str]]]
) -> list[Problem]:
    """The rows of one chunk this staff member may not write."""
    if not cells:
        return []
    if kind == "programs":
        return await _programs_outside(session, scope, cells)
    model, column, key, read = KEYED[kind]
    keys = {read(c.get(column, "")) for _, c in cells} - {None}
    elsewhere = await _found(
        session,
        keys,
        lambda batch: select(key).where(key.in_(batch), ~region_filter(model.region_code, scope)),
    )
    return [
        Problem(line, OUTSIDE, _values(c, column))
        for line, c in cells
        if not scope.covers(region_code(c.get("kode_wilayah")) or "")
        or read(c.get(column, "")) in elsewhere
    ]


def _values(cells: dict[str, str], column: str) -> dict[str, str]:
    """The row's key and region code as written in the file (cut short), for its reason."""
    return {
        "column": column,
        "key": cells.get(column, "")[:40] or "–",
        "code": cells.get("kode_wilayah", "")[:20] or "–",
        "value": cells.get("kode_wilayah", "")[:20],
    }


async def _programs_outside(
    session: AsyncSession, scope: Scope, cells: list[tuple[int, dict[str, str]]]
) -> list[Problem]:
    """Program rows whose household is not one of the scope (missing or elsewhere look the same)."""
    kks = {c.get("no_kk", "") for _, c in cells}
    mine = await _found(
        session,
        kks,
        lambda batch: scoped(select(Household.no_kk).where(Household.no_kk.in_(batch)), scope),
    )
    return [
        Problem(line, NOT_OURS, {"no_kk": c.get("no_kk", "")[:40]})
        for line, c in cells
        if c.get("no_kk", "") not in mine
    ]


async def _found(
    session: AsyncSession, keys: Iterable[Any], query: Callable[[list[Any]], Any]
) -> set[Any]:
    """The keys the query returns, asked in batches."""
    found: set[Any] = set()
    remaining = iter(keys)
    while batch := list(islice(remaining, LOOKUP_BATCH)):
        found.update(await session.scalars(query(batch)))
    return found
