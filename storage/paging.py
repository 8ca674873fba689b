"""One page of a list: count, then fetch only that page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

PAGE_SIZE = 50


@dataclass
class Page:
    """One page of a list, with what the pager needs."""

    rows: list[Any]
    total: int
    page: int
    size: int = PAGE_SIZE
    capped: bool = False  # the count stopped at `total`: there are more

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)


async def paged(
    session: AsyncSession, query: Select, page: int, *, scalars: bool = True, size: int = PAGE_SIZE
) -> Page:
    """Count, then fetch one page of `size` (never the whole list)."""
    page = max(1, page)
    total = int(
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    limited = query.limit(size).offset((page - 1) * size)
    rows = (
        list(await session.scalars(limited))
        if scalars
        else list((await session.execute(limited)).all())
    )
    return Page(rows, total, page, size)
