"""The people a page's records name as authors (`mentor:3`, `staff:7`), looked up once per page."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.labels import author_ids
from storage import staff

Names = tuple[dict[int, str], dict[int, str]]


async def authors(session: AsyncSession, who: Iterable[str | None]) -> Names:
    """Mentors' and staff members' names for the `author` filter of the templates."""
    mentor_ids, staff_ids = author_ids([w for w in who if w])
    return await staff.names_of(session, mentor_ids=mentor_ids, staff_ids=staff_ids)
