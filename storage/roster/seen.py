"""The keys an import has met so far, kept in a temporary table: a million keys never sit in memory.

A key that comes twice in one file is refused on its second line with the first one's number;
asking the table once per chunk replaces a dict of every key the file had.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import is_postgres

SEEN = Table(
    "roster_seen",
    MetaData(),
    Column("k", String(300), primary_key=True),
    Column("line", Integer, nullable=False),
)


def _name(session: AsyncSession) -> str:
    """The table in the temporary schema by name, so a DROP can never reach a real table."""
    return ("pg_temp." if is_postgres(session) else "temp.") + cast(str, SEEN.name)


async def create(session: AsyncSession) -> None:
    """An empty table of keys for this import (one left by an earlier import goes first)."""
    await forget(session)
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE {SEEN.name} "
            "(k VARCHAR(300) PRIMARY KEY, line INTEGER NOT NULL)"
        )
    )


async def first_lines(session: AsyncSession, keys: list[str]) -> dict[str, int]:
    """The keys of this chunk met in an earlier chunk, with the line that first had each."""
    if not keys:
        return {}
    found = await session.execute(select(SEEN.c.k, SEEN.c.line).where(SEEN.c.k.in_(keys)))
    return {k: line for k, line in found}


async def remember(session: AsyncSession, lines: dict[str, int]) -> None:
    """Keep the keys this chunk brought first, with their lines."""
    if lines:
        await session.execute(insert(SEEN), [{"k": k, "line": n} for k, n in lines.items()])


async def forget(session: AsyncSession) -> None:
    """Drop the table (a rolled-back import drops it with the rest of its transaction)."""
    await session.execute(text(f"DROP TABLE IF EXISTS {_name(session)}"))
