"""Regions: the kecamatan and desa of a scope, for the pages' filters."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Region
from storage.scope import Scope, narrow, prefix_filter, scoped


async def within(session: AsyncSession, scope: Scope, level: int, inside: str = "") -> list[Region]:
    """Kecamatan (3) or desa (4) of the scope, for filters."""
    query = scoped(select(Region).where(Region.level == level), scope, Region.code)
    if inside:
        query = query.where(prefix_filter(Region.code, narrow(scope, inside)))
    return list(await session.scalars(query.order_by(Region.name).limit(500)))
