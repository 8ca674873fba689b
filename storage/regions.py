"""Regions: the kecamatan and desa of a scope, for the pages' filters, and the names of codes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Region
from storage.scope import LEVELS, Scope, narrow, prefix_filter, scoped


async def within(session: AsyncSession, scope: Scope, level: int, inside: str = "") -> list[Region]:
    """Kecamatan (3) or desa (4) of the scope, for filters."""
    query = scoped(select(Region).where(Region.level == level), scope, Region.code)
    if inside:
        query = query.where(prefix_filter(Region.code, narrow(scope, inside)))
    return list(await session.scalars(query.order_by(Region.name).limit(500)))


async def names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The names Sinergi knows for these codes (from the rosters' region rows); unknown ones left out."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = await session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return {code: name for code, name in rows}


def next_level(code: str) -> int | None:
    """The length of the codes one level below `code` (None below a desa)."""
    finer = [n for n in LEVELS if n > len(code)]
    return finer[0] if finer else None


def parents(code: str) -> list[str]:
    """The codes above `code`, provinsi first, and the code itself: 6472011001 → 64, 6472, 647201, …"""
    return [code[:n] for n in LEVELS if n <= len(code)]
